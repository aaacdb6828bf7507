"""[ext] A PrintNode-compatible API under ``/printnode`` (docs/printnode.md)."""

from printcloud.server.printnode.routes import router

__all__ = ["router"]
