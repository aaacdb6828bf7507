"""The agent's logs: to the terminal, to journald under systemd, or to a rotating file."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

import structlog

# sd-daemon(3)'s syslog priorities: journald reads a "<N>" at the start of a line as the
# line's priority, so `journalctl -p warning` finds the agent's warnings.
_PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}


def _priority(level: int) -> int:
    return next((p for at, p in sorted(_PRIORITIES.items(), reverse=True) if level >= at), 7)


class _JournaldFormatter(structlog.stdlib.ProcessorFormatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{_priority(record.levelno)}>"
        # Each line is an entry of its own in the journal: a traceback's keep the priority.
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def configure_agent_logging(
    level: str = "info", log_file: Path | None = None, *, journald: bool = False
) -> None:
    """``journald``: stderr goes to systemd's journal (JOURNAL_STREAM names it), which
    stamps the time itself and takes each line's priority from its prefix."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
    ]
    if not (journald and log_file is None):
        shared.append(structlog.processors.TimeStamper(fmt="iso", utc=True))
    handler: logging.Handler
    formatter: type[structlog.stdlib.ProcessorFormatter] = structlog.stdlib.ProcessorFormatter
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
        renderer: structlog.typing.Processor = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty() and not journald
        )
        if journald:
            formatter = _JournaldFormatter
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        # A service runs for months: keep 5 files of 10 MB, never fill the disk.
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        renderer = structlog.processors.JSONRenderer()
    handler.setFormatter(formatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
