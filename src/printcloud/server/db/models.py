"""The durable state. Every row that belongs to a customer carries its ``account_id``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server.db.types import BigIntPK, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def _account_fk() -> Mapped[str]:
    return mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # ``accounts.roles.Role``: an owner manages keys, webhooks and users; a member prints.
    role: Mapped[str] = mapped_column(String(20), default="owner", server_default="owner")


class UserToken(Base):
    """A single-use link sent by e-mail (or handed on by an owner): an invitation to join
    an account, or a password reset. The link holds a random token; only its SHA-256 is
    stored, so a leaked database opens no account."""

    __tablename__ = "user_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token
    purpose: Mapped[str] = mapped_column(String(20))  # ``accounts.tokens.Purpose``
    account_id: Mapped[str] = _account_fk()
    # The reset's user; an invitation has none until it is accepted.
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))  # the invitee's role
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # SHA-256 of the whole key: the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so that a user can tell keys apart in a list.
    prefix: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    permission: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    # When a request or an agent last authenticated with the key, to within
    # ``accounts.service.LAST_USED_PRECISION``: written then at most, never per request.
    last_used_at: Mapped[datetime | None]


class WebSession(Base):
    """A dashboard login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = _account_fk()
    # Sent back in a hidden field (or header) with every POST: a forged form has no way to know it.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Computer(Base):
    __tablename__ = "computers"
    __table_args__ = (
        # A computer is (account, machine id) when its client sends one, else (account,
        # name) as the original document has it: two machines with one name and their
        # own machine ids are two computers.
        UniqueConstraint("account_id", "machine_id"),
        Index(
            "uq_computers_account_id_name_without_machine",
            "account_id",
            "name",
            unique=True,
            sqlite_where=text("machine_id IS NULL"),
            postgresql_where=text("machine_id IS NULL"),
        ),
        # Every connection counts the account's online computers (its connection limit).
        Index("ix_computers_account_state", "account_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    name: Mapped[str] = mapped_column(String(200))
    machine_id: Mapped[str | None] = mapped_column(String(200))
    os: Mapped[str] = mapped_column(String(100), default="")
    client_version: Mapped[str] = mapped_column(String(50), default="")
    state: Mapped[str] = mapped_column(String(20), default=ComputerState.OFFLINE)
    last_seen_at: Mapped[datetime | None]
    # Presence: the server instance holding the computer's socket, and which socket. A
    # handler only marks the computer offline while its own connection is the current one.
    instance_id: Mapped[str | None] = mapped_column(String(40), index=True)
    connection_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def seen_at(self) -> datetime | None:
        """When it was last seen: now while it is online (its socket open, answering
        pings; not rewritten every sweep, which for ten thousand idle agents was most of
        what they cost the database), else when it went offline."""
        return utcnow() if self.state == ComputerState.ONLINE else self.last_seen_at


class ServerInstance(Base):
    """A running ``printcloud serve`` process; its heartbeat tells the others it is alive."""

    __tablename__ = "server_instances"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


class Printer(Base):
    __tablename__ = "printers"
    __table_args__ = (UniqueConstraint("computer_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    computer_id: Mapped[str] = mapped_column(
        ForeignKey("computers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    capabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default=PrinterState.ONLINE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrinterShareToken(Base):
    """[ext] A printer's share token: whoever holds it prints to that printer over IPP
    (``/ipp/share/<token>``) without an API key. Only its SHA-256 is stored; at most one
    is live per printer (replacing one revokes it in the same transaction)."""

    __tablename__ = "printer_share_tokens"
    __table_args__ = (
        Index(
            "uq_printer_share_tokens_live_printer",
            "printer_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    printer_id: Mapped[str] = mapped_column(
        ForeignKey("printers.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so that its owner can tell which one is live.
    prefix: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class PrintJob(Base):
    __tablename__ = "print_jobs"
    __table_args__ = (
        Index("ix_print_jobs_account_seq", "account_id", "seq"),
        Index("ix_print_jobs_computer_state_seq", "computer_id", "state", "seq"),
        # The sweep looks for the few unfinished jobs among many finished ones.
        Index("ix_print_jobs_state_seq", "state", "seq"),
    )

    # ``seq`` orders jobs by creation and is the history cursor; ``id`` is the public id.
    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # A job outlives its printer and computer in the history: the names are kept.
    printer_id: Mapped[str | None] = mapped_column(
        ForeignKey("printers.id", ondelete="SET NULL"), index=True
    )
    computer_id: Mapped[str | None] = mapped_column(ForeignKey("computers.id", ondelete="SET NULL"))
    printer_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(20))
    qty: Mapped[int] = mapped_column(Integer, default=1)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None]
    # The agent connection the job was last sent on: a ``sent`` job is sent again to any
    # other connection of its computer, so a job sent on a socket that died is not stuck.
    sent_connection_id: Mapped[str | None] = mapped_column(String(40))
    # Whether that connection announced ``resume``: only then is a job whose outcome never
    # came sent again; otherwise it was written once and ends in ``error``.
    sent_resumable: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrintJobContent(Base):
    """The document (a URI or base64 data), apart so that history queries never read it."""

    __tablename__ = "print_job_contents"

    job_seq: Mapped[int] = mapped_column(
        ForeignKey("print_jobs.seq", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[str] = mapped_column(Text)
    # A ``*_uri`` document the server downloaded (base64) for a client that does not
    # fetch documents itself; sent as ``*_base64``.
    fetched: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    """A client's Idempotency-Key on POST /api/printjobs, and the job it created."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    job_id: Mapped[str] = mapped_column(String(40))
    # SHA-256 of the request's validated body; None for keys kept from before it was.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobStateEvent(Base):
    __tablename__ = "job_state_events"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    job_seq: Mapped[int] = mapped_column(
        ForeignKey("print_jobs.seq", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(255))
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # Set at the first failed attempt after a success; a webhook failing for days is disabled.
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """The outbox: every state change, written in the transaction that made it."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[str] = _account_fk()
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # to be sent, or sent again after a failure
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # given up


class WebhookDelivery(Base):
    """One event for one webhook: the message, retried until it succeeds or is given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_seq", "webhook_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # The Standard Webhooks message id (webhook-id): the same on every retry.
    id: Mapped[str] = mapped_column(String(40), unique=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    # Indexed: pruning an event deletes its deliveries by this column (ON DELETE CASCADE).
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    # A worker that claimed the delivery holds it until then; past it, another may.
    locked_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, with what the receiver answered."""

    __tablename__ = "webhook_attempts"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_seq: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.seq", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None]
    response_body: Mapped[str] = mapped_column(Text, default="")  # the first KiB
    error: Mapped[str | None] = mapped_column(Text)
    # Why no answer came (``outbound.Failure``), for people in their language; None
    # when the receiver answered, or the attempt failed some other way (``error`` says).
    failure: Mapped[str | None] = mapped_column(String(40))
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class _PrintNodeAlias:
    """[ext] The integer by which the PrintNode-compatible API (``/printnode``) names an
    object whose own id is an opaque string: PrintNode's ids are positive integers, and
    its clients type them so. Given the first time the object is shown there, never
    reused (``sqlite_autoincrement``: SQLite would otherwise hand a deleted newest row's
    number to the next). Scoped by joining the object's own row, which has the account."""

    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_autoincrement": True}
    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)


class PrintNodeAccountId(_PrintNodeAlias, Base):
    __tablename__ = "printnode_account_ids"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )


class PrintNodeComputerId(_PrintNodeAlias, Base):
    __tablename__ = "printnode_computer_ids"

    computer_id: Mapped[str] = mapped_column(
        ForeignKey("computers.id", ondelete="CASCADE"), unique=True
    )


class PrintNodePrinterId(_PrintNodeAlias, Base):
    __tablename__ = "printnode_printer_ids"

    printer_id: Mapped[str] = mapped_column(
        ForeignKey("printers.id", ondelete="CASCADE"), unique=True
    )


class PrintNodeJobSource(Base):
    """[ext] The ``source`` a job made through the PrintNode-compatible API was given,
    shown back there as PrintNode does; jobs made elsewhere have none."""

    __tablename__ = "printnode_job_sources"

    job_seq: Mapped[int] = mapped_column(
        ForeignKey("print_jobs.seq", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(255))


def table(model: type[Base]) -> Table:
    """The model's table, for statements built once on the hot paths (``__table__`` is
    typed as any FromClause)."""
    assert isinstance(model.__table__, Table)
    return model.__table__
