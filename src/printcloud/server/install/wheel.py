"""The agent's wheel, packed from the ``printcloud`` package this server runs.

The server hands office PCs the same package it is (the agent, the SDK and the CLI are
in it; their dependencies are the lean set, the server's are the ``server`` extra). No
build tool is needed at run time, and it works alike from a source checkout installed
in editable mode (``./scripts/serve``, ``./scripts/test``) and from an installed wheel:
the files are those of the package directory, the metadata is the installed
distribution's (``importlib.metadata``: Requires-Dist with its extras, the entry point).

The wheel is built in memory, once per process, and is deterministic (sorted entries,
fixed timestamps and modes): every process of a cluster serves the same bytes, so its
ETag (their SHA-256) agrees whichever process answers. Nothing is written to disk, so
nothing can go stale after an upgrade: a restarted server packs its new code.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

DISTRIBUTION = "printcloud"
TAG = "py3-none-any"
# The package directory: server/install/wheel.py -> printcloud/
PACKAGE_DIR = Path(__file__).resolve().parents[2]
# Zip's epoch: a wheel's entries carry no build time, so two builds are byte-identical.
_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Wheel:
    filename: str
    data: bytes

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data).hexdigest() + '"'


def version() -> str:
    return importlib.metadata.version(DISTRIBUTION)


def wheel_filename() -> str:
    """``printcloud-<version>-py3-none-any.whl``, as pip expects the file to be named."""
    return f"{DISTRIBUTION}-{version()}-{TAG}.whl"


def _package_files(root: Path) -> list[tuple[str, bytes]]:
    """The package's files as ``printcloud/...`` paths: sources and package data,
    without byte code (pip compiles its own)."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
            continue
        found.append((f"{root.name}/{relative.as_posix()}", path.read_bytes()))
    return found


def _dist_info_files(
    dist: importlib.metadata.Distribution, dist_info: str
) -> list[tuple[str, bytes]]:
    metadata = dist.read_text("METADATA")
    if metadata is None:
        raise RuntimeError(f"the installed {DISTRIBUTION} has no METADATA")
    files = [(f"{dist_info}/METADATA", metadata.encode())]
    for name in HeaderParser().parsestr(metadata).get_all("License-File") or []:
        text = dist.read_text(f"licenses/{name}")
        if text is not None:
            files.append((f"{dist_info}/licenses/{name}", text.encode()))
    entry_points = dist.read_text("entry_points.txt")
    if entry_points is not None:  # the `printcloud` command
        files.append((f"{dist_info}/entry_points.txt", entry_points.encode()))
    wheel = f"Wheel-Version: 1.0\nGenerator: printcloud\nRoot-Is-Purelib: true\nTag: {TAG}\n"
    files.append((f"{dist_info}/WHEEL", wheel.encode()))
    return files


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def build_wheel(package_dir: Path = PACKAGE_DIR) -> Wheel:
    """Pack ``package_dir`` and the installed distribution's metadata into a wheel."""
    dist = importlib.metadata.distribution(DISTRIBUTION)
    dist_info = f"{DISTRIBUTION}-{dist.version}.dist-info"
    files = _package_files(package_dir) + _dist_info_files(dist, dist_info)
    record_path = f"{dist_info}/RECORD"
    record = "".join(_record_line(path, data) for path, data in files) + f"{record_path},,\n"
    files.append((record_path, record.encode()))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files:  # the dist-info last, RECORD at the very end
            info = zipfile.ZipInfo(path, date_time=_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return Wheel(f"{DISTRIBUTION}-{dist.version}-{TAG}.whl", buffer.getvalue())
