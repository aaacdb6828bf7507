from __future__ import annotations

from fastapi import APIRouter

from printcloud.server.accounts.deps import CanManage, CanRead
from printcloud.server.computers import service
from printcloud.server.computers.schemas import ComputerOut, PrinterOut
from printcloud.server.deps import SessionDep
from printcloud.server.ids import split_ids

router = APIRouter(prefix="/api", tags=["computers and printers"])


@router.get(
    "/printers",
    response_model=list[PrinterOut],
    summary="All printers on all of the account's computers",
)
async def list_printers(principal: CanRead, session: SessionDep) -> list[PrinterOut]:
    return await service.list_printers(session, principal.account_id)


@router.get(
    "/printers/{ids}", response_model=list[PrinterOut], summary="Printers by id (comma-separated)"
)
async def get_printers(ids: str, principal: CanRead, session: SessionDep) -> list[PrinterOut]:
    return await service.list_printers(session, principal.account_id, split_ids(ids))


@router.get(
    "/computers",
    response_model=list[ComputerOut],
    summary="The account's computers, each with its printers",
)
async def list_computers(principal: CanRead, session: SessionDep) -> list[ComputerOut]:
    return await service.list_computers(session, principal.account_id)


@router.get(
    "/computers/{computer_id}/printers",
    response_model=list[PrinterOut],
    summary="The printers of one computer",
)
async def computer_printers(
    computer_id: str, principal: CanRead, session: SessionDep
) -> list[PrinterOut]:
    return await service.printers_of_computer(session, principal.account_id, computer_id)


@router.delete(
    "/computers/{ids}",
    response_model=list[str],
    summary="Remove computers (comma-separated ids); answers the ids removed",
)
async def delete_computers(ids: str, principal: CanManage, session: SessionDep) -> list[str]:
    return await service.delete_computers(session, principal.account_id, split_ids(ids))
