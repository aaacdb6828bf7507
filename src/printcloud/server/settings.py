"""The one settings object, read once at start-up from ``PRINTCLOUD_*`` variables."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from printcloud.server.mail import SmtpConfig
from printcloud.server.ratelimit import Rate


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("printcloud", appauthor=False))


class Settings(BaseSettings):
    # An invalid value is named, never shown: the SMTP URL carries a password.
    model_config = SettingsConfigDict(
        env_prefix="PRINTCLOUD_", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    # Empty means "SQLite in the data dir"; resolved by ``database_url_resolved``.
    database_url: str = ""
    redis_url: str | None = None
    allow_private_urls: bool = False
    # Rates are COUNT/PERIOD: "10/s", "5/15m", "100/minute".
    rate_limit: str = "10/s"
    # Failed client logins allowed per e-mail address and per client address.
    login_failures_per_email: str = "5/15m"
    login_failures_per_address: str = "30/15m"
    # Dashboard sign-ups (made or failed) per client address.
    signups_per_address: str = "5/h"
    # "Forgot password" requests per client address and per e-mail address (known or
    # not, so that a refusal tells nothing about the address).
    reset_requests_per_address: str = "10/h"
    reset_requests_per_email: str = "3/h"
    # Invitations and reset links an account's owners make: with open sign-up, anyone
    # could otherwise have this server mail any address.
    links_per_account: str = "30/h"
    # Invitations and password resets go out by e-mail when this is set:
    # smtp://user:pass@host:587?starttls=true or smtps://user:pass@host:465.
    smtp_url: SecretStr | None = None
    smtp_from: str = "PrintCloud <printcloud@localhost>"
    # The address links in e-mails point at (https://print.example.com). Unset, they
    # take the address the request came to, which a proxy must then vouch for.
    public_url: str = ""
    max_body_size: int = Field(default=50 * 1024 * 1024, gt=0)
    # A decoded base64 document larger than this is refused with 413.
    max_document_size: int = Field(default=50 * 1024 * 1024, gt=0)
    # A *_uri document the server downloads for a client that does not fetch it itself:
    # the whole download, redirects included, within this many seconds.
    document_download_timeout: float = Field(default=60.0, gt=0)
    # Origins whose browser code may call the API (the original's fetch examples); "*" for
    # any. Keys travel in the Authorization header, never in cookies, so "*" is safe.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    # The agent WebSocket.
    ws_auth_timeout: float = Field(default=10.0, gt=0)
    ws_max_message_size: int = Field(default=1024 * 1024, gt=0)
    ws_ping_interval: float = Field(default=20.0, gt=0)
    ws_ping_timeout: float = Field(default=20.0, gt=0)
    # Agents between their handshake and their first printers_ok at once; one more is
    # told to come back later (close 1013 with a hint). Each holds its place for about
    # two round trips to the agent, so the cap bounds the rate too: 256 admits ~600/s
    # from offices 200 ms away, more than the 2-core benchmark machine completes.
    ws_max_handshakes: int = Field(default=256, gt=0)
    # A graceful shutdown sends no new job, then waits this long at most for the clients
    # without ``resume`` to report the jobs they were sent, before it closes them (1012).
    ws_shutdown_grace: float = Field(default=3.0, ge=0)
    max_connections_per_account: int = Field(default=1000, gt=0)
    # Messages one agent may send: a burst of COUNT, then COUNT per PERIOD. More are
    # read more slowly (the agent waits), never refused.
    agent_message_rate: str = "50/s"
    # How often each instance heartbeats, expires jobs and re-sends what a lost wake-up
    # missed; an instance silent for ``instance_timeout`` is dead and its computers offline.
    sweep_interval: float = Field(default=5.0, gt=0)
    instance_timeout: float = Field(default=30.0, gt=0)
    # Webhook delivery.
    run_webhook_worker: bool = True  # every `printcloud serve` delivers, unless turned off
    webhook_timeout: float = Field(default=10.0, gt=0)
    webhook_poll_interval: float = Field(default=0.5, gt=0)
    # Requests in flight at once to one receiver (scheme, host, port); each webhook's
    # own deliveries still go one at a time, in order.
    webhook_concurrency: int = Field(default=8, ge=1)
    # Multiplies the retry schedule (10 s ... 12 h, about a day in all); tests shrink it.
    webhook_retry_scale: float = Field(default=1.0, gt=0)
    webhook_disable_after: float = Field(default=3 * 24 * 3600.0, gt=0)
    # The web dashboard.
    signup_enabled: bool = True  # anyone who reaches the server may create an account
    session_lifetime: float = Field(default=14 * 24 * 3600.0, gt=0)  # idle seconds
    # How often a dashboard's live view reads new events from the outbox.
    dashboard_live_interval: float = Field(default=1.0, gt=0)
    # A job page's thumbnail is rendered in a worker process of its own, within these
    # bounds (the memory is address space, enforced on Linux); more waits its turn.
    thumbnail_memory_limit: int = Field(default=512 * 1024 * 1024, gt=0)
    thumbnail_timeout: float = Field(default=10.0, gt=0)
    thumbnail_concurrency: int = Field(default=2, ge=1)
    # Proxies trusted for X-Forwarded-For/-Proto (uvicorn's forwarded_allow_ips); empty
    # trusts none. Behind a TLS proxy this makes session cookies Secure.
    forwarded_allow_ips: str = ""
    # History pruning: finished jobs (with their documents and state history) and
    # delivered events (with their webhook deliveries) older than this are deleted.
    job_retention_days: float = Field(default=30.0, gt=0)
    event_retention_days: float = Field(default=7.0, gt=0)
    prune_interval: float = Field(default=600.0, gt=0)
    # A request's headers must arrive within this many seconds of its connection (or of
    # the answer before it on a kept-alive one); else 408 and the connection closes.
    http_header_timeout: float = Field(default=10.0, gt=0)
    # /metrics for the operator's Prometheus: with a token, to whoever sends it as
    # ``Authorization: Bearer``; without one, only to these networks (loopback), and
    # never through a proxy. The directory: a host's `printcloud serve` processes add
    # up their figures there (prometheus-client's multiprocess mode; docs/metrics.md).
    metrics_token: SecretStr | None = None
    metrics_allow_from: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    metrics_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    log_level: str = "info"
    log_json: bool = False

    @field_validator(
        "rate_limit",
        "login_failures_per_email",
        "login_failures_per_address",
        "agent_message_rate",
        "signups_per_address",
        "reset_requests_per_address",
        "reset_requests_per_email",
        "links_per_account",
        mode="before",
    )
    @classmethod
    def _check_rate(cls, value: object) -> object:
        Rate.parse(value)
        return value

    @field_validator("redis_url", "metrics_token", "metrics_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("metrics_allow_from")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names it
        return value

    @cached_property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.metrics_allow_from)

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _check_smtp_url(cls, value: object) -> object:
        if value in ("", None):
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        SmtpConfig.parse(raw)  # a ValueError that never names the password
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _check_public_url(cls, value: object) -> object:
        text = str(value or "").strip().rstrip("/")
        if text and not text.startswith(("http://", "https://")):
            raise ValueError("PRINTCLOUD_PUBLIC_URL must start with http:// or https://")
        return text

    @cached_property
    def smtp(self) -> SmtpConfig | None:
        return SmtpConfig.parse(self.smtp_url.get_secret_value()) if self.smtp_url else None

    @cached_property
    def reset_address_rate(self) -> Rate:
        return Rate.parse(self.reset_requests_per_address)

    @cached_property
    def reset_email_rate(self) -> Rate:
        return Rate.parse(self.reset_requests_per_email)

    @cached_property
    def account_links_rate(self) -> Rate:
        return Rate.parse(self.links_per_account)

    @cached_property
    def api_rate(self) -> Rate:
        return Rate.parse(self.rate_limit)

    @cached_property
    def signup_rate(self) -> Rate:
        return Rate.parse(self.signups_per_address)

    @cached_property
    def agent_rate(self) -> Rate:
        return Rate.parse(self.agent_message_rate)

    @cached_property
    def login_email_rate(self) -> Rate:
        return Rate.parse(self.login_failures_per_email)

    @cached_property
    def login_address_rate(self) -> Rate:
        return Rate.parse(self.login_failures_per_address)

    @property
    def database_url_resolved(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'printcloud.db'}"
