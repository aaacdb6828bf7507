"""FastAPI dependencies every edge shares: the process's ports, the request's session.

Who is calling, and what their key may do, is the accounts' business:
:mod:`printcloud.server.accounts.deps`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.uow import commit
from printcloud.server.ports import Ports
from printcloud.server.settings import Settings


async def get_ports(request: Request) -> Ports:
    # async, though it awaits nothing: FastAPI runs a plain function dependency in a
    # worker thread, and the hop there and back cost milliseconds on every request.
    ports = request.app.state.ports
    assert isinstance(ports, Ports)
    return ports


PortsDep = Annotated[Ports, Depends(get_ports)]


async def get_settings(ports: PortsDep) -> Settings:
    return ports.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def _session(ports: PortsDep) -> AsyncIterator[AsyncSession]:
    # The request is the unit of work: committed once, after the endpoint returned and
    # before the response is sent, so a client never hears of what was not committed.
    async with ports.database.sessionmaker() as session:
        yield session
        await commit(session)


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
