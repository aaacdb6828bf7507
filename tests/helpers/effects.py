"""A sink for the effects of committed transactions that writes them down, in order:
what a server process would be told after each commit."""

from __future__ import annotations


class RecordingSink:
    def __init__(self, *, failing: str | None = None) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self._failing = failing

    def of(self, name: str) -> list[list[str]]:
        return [ids for called, ids in self.calls if called == name]

    async def _record(self, name: str, ids: list[str]) -> None:
        self.calls.append((name, ids))
        if name == self._failing:
            raise RuntimeError(f"{name} failed")

    async def wake_computers(self, computer_ids: list[str]) -> None:
        await self._record("wake", computer_ids)

    async def computers_removed(self, computer_ids: list[str]) -> None:
        await self._record("removed", computer_ids)

    async def webhooks_due(self) -> None:
        await self._record("webhooks", [])

    async def jobs_cancelled(self, computer_id: str, job_ids: list[str]) -> None:
        await self._record("cancelled", [computer_id, *job_ids])

    async def key_revoked(self, key_id: str) -> None:
        await self._record("revoked", [key_id])
