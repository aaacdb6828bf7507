"""The agent's distribution from the server itself: ``/install/`` (installers and wheel)."""

from printcloud.server.install.routes import install_router, one_liners, server_url

__all__ = ["install_router", "one_liners", "server_url"]
