"""**[ext]** ``/ipp``: each printer as an IPP Everywhere printer (docs/ipp.md), over the
same services as the API: a job printed here is a job of the API, webhooks, dashboard
and agents."""

from printcloud.server.ipp.routes import ipp_router

__all__ = ["ipp_router"]
