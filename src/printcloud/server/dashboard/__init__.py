"""The web dashboard: server-rendered pages over the same services as the REST API."""

from printcloud.server.dashboard.routes import mount

__all__ = ["mount"]
