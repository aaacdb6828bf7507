"""The web dashboard: server-rendered pages over the same services as the REST API.

Mounted by :func:`printcloud.server.dashboard.routes.mount`. Nothing is imported here:
the thumbnail worker runs as a module of this package, and must start without the
server's web stack.
"""
