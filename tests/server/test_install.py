"""``/install/``: the installers and the agent's wheel, served by the server itself."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import subprocess
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from printcloud._version import __version__
from printcloud.server.install.wheel import build_wheel
from tests.helpers.live_server import LiveServer

WHEEL = f"printcloud-{__version__}-py3-none-any.whl"
# The server's libraries, which an agent's install must not require.
SERVER_ONLY = {"fastapi", "uvicorn", "sqlalchemy", "alembic", "asyncpg", "pillow", "pypdfium2"}


async def run_sh(*args: str) -> subprocess.CompletedProcess[str]:
    """``sh args``, to its end, as a shell user runs the installer."""
    process = await asyncio.create_subprocess_exec(
        "sh", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, stdout.decode(), stderr.decode())


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Nothing here touches the database: one backend is enough."""
    return sqlite_url


async def test_the_index_lists_the_installers_and_the_wheel(client: httpx.AsyncClient) -> None:
    for path in ("/install/", "/install"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {
            "version": __version__,
            "agent.sh": "http://testserver/install/agent.sh",
            "agent.ps1": "http://testserver/install/agent.ps1",
            "wheel": f"http://testserver/install/{WHEEL}",
            "commands": {
                "linux_macos": "curl -fsSL http://testserver/install/agent.sh | sh",
                "windows": "irm http://testserver/install/agent.ps1 | iex",
            },
        }


async def test_the_installers_need_no_login_and_carry_the_servers_address(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    sh = await client.get("/install/agent.sh", headers={"Host": "print.example.com:8443"})
    assert sh.status_code == 200
    assert sh.headers["content-type"] == "text/plain; charset=utf-8"
    assert sh.headers["cache-control"] == "no-cache"
    assert "SERVER='http://print.example.com:8443'\n" in sh.text
    assert f"WHEEL='{WHEEL}'\n" in sh.text
    assert "__PRINTCLOUD_" not in sh.text

    ps1 = await client.get("/install/agent.ps1")
    assert ps1.status_code == 200
    assert "$Server = 'http://testserver'\r\n" in ps1.text
    assert f"$Wheel = '{WHEEL}'\r\n" in ps1.text
    assert "__PRINTCLOUD_" not in ps1.text
    assert "\n" not in ps1.text.replace("\r\n", "")  # CRLF throughout, for Windows

    # The script is valid POSIX sh, and answers --help and a wrong option without
    # touching the computer or the network.
    script = tmp_path / "agent.sh"
    script.write_text(sh.text)
    syntax = await run_sh("-n", str(script))
    assert syntax.returncode == 0, syntax.stderr
    usage = await run_sh(str(script), "--help")
    assert usage.returncode == 0
    assert "curl -fsSL http://print.example.com:8443/install/agent.sh | sh -s --" in usage.stdout
    wrong = await run_sh(str(script), "--prefx", str(tmp_path))
    assert wrong.returncode == 1
    assert "unknown option: --prefx" in wrong.stderr


async def test_a_forged_host_header_puts_no_code_in_the_script(live: LiveServer) -> None:
    # Over a real socket: an HTTP client library would refuse to send such a Host. Starlette
    # falls back to the listening address for some; the route refuses what else is unsafe.
    port = int(live.url.rsplit(":", 1)[1])
    for host in ("evil.example.com';rm -rf ~;'", "a$(id).example.com", "[::1]:1'", "a:b"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = f"GET /install/agent.sh HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        answer = (await asyncio.wait_for(reader.read(), timeout=10)).decode()
        writer.close()
        await writer.wait_closed()
        status = answer.split("\r\n", 1)[0]
        if status.startswith("HTTP/1.1 200 "):
            assert f"SERVER='http://127.0.0.1:{port}'\n" in answer, host
        else:
            assert status.startswith("HTTP/1.1 400 "), (host, status)
        assert host not in answer


async def test_the_wheel_is_served_with_an_etag_and_answers_304_when_unchanged(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"/install/{WHEEL}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    etag = response.headers["etag"]
    assert etag == '"' + hashlib.sha256(response.content).hexdigest() + '"'

    again = await client.get(f"/install/{WHEEL}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    changed = await client.get(f"/install/{WHEEL}", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200

    for other in ("printcloud-0.0.1-py3-none-any.whl", "agent.py", "..%2Fsettings.py"):
        assert (await client.get(f"/install/{other}")).status_code == 404, other


def test_the_wheel_is_the_package_with_its_lean_dependencies_and_a_true_record() -> None:
    wheel = build_wheel()
    assert wheel.filename == WHEEL
    assert build_wheel().data == wheel.data  # every server process serves the same bytes
    archive = zipfile.ZipFile(io.BytesIO(wheel.data))
    names = set(archive.namelist())
    dist_info = f"printcloud-{__version__}.dist-info"
    for expected in (
        "printcloud/__init__.py",
        "printcloud/agent/runner.py",
        "printcloud/cli/main.py",
        "printcloud/py.typed",
        "printcloud/server/install/scripts/agent.sh",
        "printcloud/server/dashboard/templates/connect.html",
        f"{dist_info}/METADATA",
        f"{dist_info}/WHEEL",
        f"{dist_info}/entry_points.txt",
        f"{dist_info}/RECORD",
    ):
        assert expected in names, expected
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert (
        "printcloud = printcloud.cli:main" in archive.read(f"{dist_info}/entry_points.txt").decode()
    )

    metadata = HeaderParser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
    assert metadata["Version"] == __version__
    requires = [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]

    def needed(extra: str, platform: str) -> set[str]:
        return {
            r.name.lower()
            for r in requires
            if r.marker is None or r.marker.evaluate({"extra": extra, "sys_platform": platform})
        }

    assert {"httpx", "pydantic", "typer", "websockets", "structlog"} <= needed("", "linux")
    assert needed("", "linux") & SERVER_ONLY == set()
    assert needed("", "darwin") == needed("", "linux")
    assert needed("", "win32") - needed("", "linux") == {"pywin32", "pypdfium2", "pillow"}
    assert {"fastapi", "sqlalchemy", "uvicorn", "alembic"} <= needed("server", "linux")

    # pip checks every file against RECORD: each hash and size must be right.
    rows = list(csv.reader(archive.read(f"{dist_info}/RECORD").decode().splitlines()))
    recorded = {row[0] for row in rows}
    assert recorded == names
    for path, digest, size in rows:
        if path.endswith("RECORD"):
            assert (digest, size) == ("", "")
            continue
        data = archive.read(path)
        expected_digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        assert digest == "sha256=" + expected_digest.decode(), path
        assert int(size) == len(data), path
