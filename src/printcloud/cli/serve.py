"""What ``printcloud serve`` and ``printcloud users`` do, apart from argument parsing."""

from __future__ import annotations

import asyncio
import signal

import structlog
from sqlalchemy.engine import make_url

from printcloud.server import metrics
from printcloud.server.accounts import service as accounts
from printcloud.server.app import create_app, served
from printcloud.server.db.database import Database
from printcloud.server.db.models import User
from printcloud.server.db.uow import unit_of_work
from printcloud.server.logs import configure_logging
from printcloud.server.serving import Server, uvicorn_config
from printcloud.server.settings import Settings
from printcloud.server.webhooks.delivery import DeliveryWorker

log = structlog.get_logger(__name__)


async def _migrate(settings: Settings) -> None:
    database = Database.open(settings.database_url_resolved)
    try:
        await database.migrate()
    finally:
        await database.close()


def _raise_open_file_limit() -> None:
    """Every agent holds a socket open: take the hard limit on open files, not the soft one
    (often 1024), as servers do."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("open_file_limit_unchanged", soft=soft, hard=hard, error=str(exc))
            return
        soft = target
    log.info("open_file_limit", limit=soft)


def run_server(settings: Settings) -> None:
    configure_logging(settings.log_level, json=settings.log_json)
    metrics.join_directory(settings.metrics_dir)
    _raise_open_file_limit()
    asyncio.run(_migrate(settings))
    log.info(
        "starting",
        url=f"http://{settings.host}:{settings.port}",
        database=make_url(settings.database_url_resolved).render_as_string(hide_password=True),
        redis="on" if settings.redis_url else "off",
    )
    app = create_app(settings)
    try:
        Server(uvicorn_config(served(app), settings), app.state.runtime.release_agents).run()
    finally:
        metrics.leave_directory()


async def create_user(
    settings: Settings, *, email: str, password: str, first_name: str, last_name: str
) -> User:
    database = Database.open(settings.database_url_resolved)
    try:
        await database.migrate()
        async with unit_of_work(database.sessionmaker) as session:
            return await accounts.create_user(
                session, email=email, password=password, first_name=first_name, last_name=last_name
            )
    finally:
        await database.close()


def run_worker(settings: Settings) -> None:
    """Migrate, then deliver webhooks until SIGINT/SIGTERM."""
    configure_logging(settings.log_level, json=settings.log_json)
    metrics.join_directory(settings.metrics_dir)

    async def main() -> None:
        database = Database.open(settings.database_url_resolved)
        await database.migrate()
        worker = DeliveryWorker(settings, database.sessionmaker)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        worker.start()
        log.info("worker_started")
        try:
            await stop.wait()
        finally:
            await worker.stop()
            await database.close()

    try:
        asyncio.run(main())
    finally:
        metrics.leave_directory()
