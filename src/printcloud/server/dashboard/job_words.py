"""A job's stored words in the page's language: its options, its document type, and
the state-history messages PrintCloud itself writes.

The history is stored as it was written (the API answers it in English, as the
original document's examples do); the dashboard shows the messages it knows the
shape of in its own language. A message an agent wrote in its own words, or a
printer's, is shown as it came.
"""

from __future__ import annotations

import re

from printcloud.server.dashboard import i18n
from printcloud.server.dashboard.i18n import Translator

# (shape, catalog key): a message of this shape is the key's text with the named parts.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), key)
    for pattern, key in (
        (r"Job created", "history.created"),
        (r"Sent to (?P<computer>.+)", "history.sent"),
        (r"Printing on (?P<printer>.+)", "history.printing"),
        (r"Printed on (?P<printer>.+?) with SumatraPDF", "history.printed"),
        (r"Printed on (?P<printer>.+?) \(CUPS jobs? [\d, ]+\)", "history.printed"),
        (r"Printed on (?P<printer>.+)", "history.printed"),
        (r"Printing failed on (?P<printer>.+)", "history.failed"),
        (r"Written to (?P<path>.+)", "history.written"),
        (r"Not delivered before its expiry", "history.expired"),
        (r"The computer was removed from the account", "history.computer_removed"),
        (
            r"the computer disconnected before reporting how this job ended; it may have printed",
            "history.disconnected",
        ),
        (r"The server could not get the document: (?P<reason>.+)", "history.download_failed"),
    )
)


def history_message(t: Translator, message: str) -> str:
    for shape, key in _MESSAGES:
        match = shape.fullmatch(message)
        if match:
            return t(key, **match.groupdict())
    return message


def option_name(t: Translator, name: str) -> str:
    key = f"option.{name}"
    return t(key) if key in i18n.EN else name  # an option the catalogs do not name: as is


def option_value(t: Translator, value: object) -> str:
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no")
    if isinstance(value, str) and f"option.{value}" in i18n.EN:  # duplex's words
        return t(f"option.{value}")
    return str(value)
