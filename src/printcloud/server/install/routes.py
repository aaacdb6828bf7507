"""``/install/``: the agent's installers and wheel, public and read-only.

An office PC reaches its PrintCloud server, not necessarily a package index: the
installers are served with this server's address filled in, and they install the agent
from the wheel served beside them (see ``wheel.py`` for where it comes from).
"""

from __future__ import annotations

import re
from importlib.resources import files

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from printcloud.server.errors import BadRequest, NotFound
from printcloud.server.install.wheel import Wheel, build_wheel, version, wheel_filename

PREFIX = "/install"
# What may be pasted into the scripts' quoted strings: a URL's scheme, host, port and a
# plain path (a root path behind a proxy). Anything else in a Host header is refused, so
# a forged one cannot put shell or PowerShell code into a script.
_SAFE_BASE_URL = re.compile(
    r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(:[0-9]{1,5})?(/[A-Za-z0-9._~\-/]*)?"
)
_SCRIPT_TYPE = "text/plain; charset=utf-8"  # shown, not downloaded, by a browser
# Every answer depends on the address the request used: a cache must not hand one
# host's script to another's, and a new version must be seen at once.
_NO_STORE = {"Cache-Control": "no-cache", "Vary": "Host"}


def server_url(request: Request) -> str:
    """This server's address as the client reached it (the proxy's, when one is trusted)."""
    url = str(request.base_url).rstrip("/")
    if not _SAFE_BASE_URL.fullmatch(url):
        raise BadRequest("The request's Host header is not a valid address")
    return url


def one_liners(server: str) -> dict[str, str]:
    """The commands that install the agent from ``server``: ``unix`` is piped to ``sh``
    (options after ``sh -s --``), the Windows ones are typed in PowerShell."""
    script = f"{server}{PREFIX}/agent.ps1"
    return {
        "unix": f"curl -fsSL {server}{PREFIX}/agent.sh",
        "windows": f"irm {script} | iex",
        "windows_unattended": f"& ([scriptblock]::Create((irm {script}))) -ApiKey KEY",
    }


def _script(name: str, server: str) -> str:
    template = files(__package__).joinpath("scripts", name).read_text(encoding="utf-8")
    return template.replace("__PRINTCLOUD_SERVER__", server).replace(
        "__PRINTCLOUD_WHEEL__", wheel_filename()
    )


class _WheelCache:
    """The wheel, packed at its first request (a fraction of a second, off the event
    loop) and kept for the life of the process."""

    def __init__(self) -> None:
        self._wheel: Wheel | None = None
        self._lock = anyio.Lock()

    async def get(self) -> Wheel:
        async with self._lock:
            if self._wheel is None:
                self._wheel = await anyio.to_thread.run_sync(build_wheel)
            return self._wheel


def install_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    cache = _WheelCache()

    @router.get("")
    async def index(request: Request) -> Response:
        server = server_url(request)
        body = {
            "version": version(),
            "agent.sh": f"{server}{PREFIX}/agent.sh",
            "agent.ps1": f"{server}{PREFIX}/agent.ps1",
            "wheel": f"{server}{PREFIX}/{wheel_filename()}",
            "commands": {
                "linux_macos": one_liners(server)["unix"] + " | sh",
                "windows": one_liners(server)["windows"],
            },
        }
        return JSONResponse(body, headers=_NO_STORE)

    @router.get("/agent.sh")
    async def agent_sh(request: Request) -> Response:
        script = _script("agent.sh", server_url(request))
        return Response(script, media_type=_SCRIPT_TYPE, headers=_NO_STORE)

    @router.get("/agent.ps1")
    async def agent_ps1(request: Request) -> Response:
        # CRLF: what Windows' tools expect of a script saved from the browser.
        script = _script("agent.ps1", server_url(request)).replace("\n", "\r\n")
        return Response(script, media_type=_SCRIPT_TYPE, headers=_NO_STORE)

    @router.get("/{filename}")
    async def wheel(filename: str, request: Request) -> Response:
        if filename != wheel_filename():
            raise NotFound(f"No such file: {PREFIX}/{filename}")
        built = await cache.get()
        headers = {"ETag": built.etag, "Cache-Control": "no-cache"}
        if built.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(built.data, media_type="application/zip", headers=headers)

    return router
