"""A JobProgress that keeps what a backend told it, for tests to read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Recorded:
    """The news a backend told (``told``) and the printer jobs it said it handed over
    (``jobs``), in order."""

    told: list[str] = field(default_factory=list)
    jobs: list[tuple[str, int]] = field(default_factory=list)

    async def news(self, message: str) -> None:
        self.told.append(message)

    def accepted(self, printer: str, printer_job: int, of: int) -> None:
        self.jobs.append((printer, printer_job))

    async def told_now(self) -> list[str] | None:
        """The news so far, once there is some (for ``eventually``)."""
        return list(self.told) or None
