from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, status

from printcloud.server.accounts.deps import CanManage, CanPrint, CanRead
from printcloud.server.deps import SessionDep, SettingsDep
from printcloud.server.ids import split_ids
from printcloud.server.jobs import service
from printcloud.server.jobs.schemas import JobStateOut, PrintJobIn, PrintJobOut
from printcloud.server.schemas import ErrorBody

router = APIRouter(prefix="/api", tags=["print jobs"])


@router.post(
    "/printjobs",
    status_code=status.HTTP_201_CREATED,
    response_model=str,
    summary="Create a print job; answers its id as a bare JSON string",
    responses={
        201: {
            "content": {
                "application/json": {"schema": {"type": "string", "example": "pj_a8f3b2c1d4e5f6g7"}}
            }
        },
        422: {
            "model": ErrorBody,
            "description": "[ext] The Idempotency-Key was used for a different job",
        },
    },
)
async def create_print_job(
    body: PrintJobIn,
    principal: CanPrint,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="[ext] The same key within 24 h answers the same job id, printed once",
        ),
    ] = None,
) -> str:
    return await service.submit_job(session, settings, principal.account_id, body, idempotency_key)


@router.get(
    "/printjobs",
    response_model=list[PrintJobOut],
    summary="The print job history, newest first by default",
)
async def list_print_jobs(
    principal: CanRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    dir: Annotated[Literal["asc", "desc"], Query()] = "desc",
    after: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            description="[ext] A job id: the page continues after that job",
        ),
    ] = None,
) -> list[PrintJobOut]:
    return await service.history(
        session, principal.account_id, limit=limit, descending=dir == "desc", after=after
    )


@router.get(
    "/printjobs/{ids}",
    response_model=list[PrintJobOut],
    summary="[ext] Print jobs by id (comma-separated)",
)
async def get_print_jobs(ids: str, principal: CanRead, session: SessionDep) -> list[PrintJobOut]:
    jobs = await service.jobs_by_ids(session, principal.account_id, split_ids(ids))
    return [service.to_out(j) for j in jobs]


@router.get(
    "/printjobs/{job_id}/states",
    response_model=list[JobStateOut],
    summary="[ext] The state history of a print job, with messages",
)
async def print_job_states(
    job_id: str, principal: CanRead, session: SessionDep
) -> list[JobStateOut]:
    return await service.states(session, principal.account_id, job_id)


@router.delete(
    "/printjobs/{ids}",
    response_model=list[str],
    summary="Delete print jobs (comma-separated ids); answers the ids deleted",
)
async def delete_print_jobs(ids: str, principal: CanManage, session: SessionDep) -> list[str]:
    return await service.delete_jobs(session, principal.account_id, split_ids(ids))
