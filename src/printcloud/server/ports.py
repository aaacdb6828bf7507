"""What the HTTP edges (the API's routes and the dashboard's pages) are handed of the
process: the settings, the database, the rate limiter and the mailer. Not the whole runtime:
an edge parses a request, calls a service and renders the answer, and the effects
it may cause go through the unit of work (:mod:`printcloud.server.effects`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from printcloud.server.db.database import Database
from printcloud.server.keycache import KeyCache
from printcloud.server.mail import Mailer
from printcloud.server.ratelimit import RateLimiter
from printcloud.server.settings import Settings

if TYPE_CHECKING:
    from printcloud.server.accounts.service import Principal


@dataclass(frozen=True)
class Ports:
    settings: Settings
    database: Database
    limiter: RateLimiter
    # Who each recently seen API key is (the accounts' authentication fills it).
    principals: KeyCache[Principal]
    # Invitations and password resets (``configured`` False without PRINTCLOUD_SMTP_URL).
    mailer: Mailer
