"""PrintNode's print options, said in ours; an option we cannot honour is refused.

PrintNode's ``options`` carry the same words as ours for most of them. Its ``bin`` is
our ``media`` (a tray or bin); its ``media`` is a kind of paper (plain, glossy...),
which no PrintCloud backend sets. Nothing is dropped quietly: a job printed without
the staple, rotation or resolution it asked for is a wrong print.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from printcloud.server.errors import BadRequest, describe_validation_errors
from printcloud.server.jobs.schemas import PrintOptions

# PrintNode's name -> ours
MAPPED = {
    "copies": "copies",
    "color": "color",
    "duplex": "duplex",
    "paper": "paper",
    "pages": "pages",
    "fit_to_page": "fit_to_page",
    "bin": "media",
}
# PrintNode's name -> the value that asks for nothing: sent by clients that always send
# the option (a rotation of 0), it is honoured by doing nothing.
NEUTRAL = {"rotate": 0, "nup": 1}
# PrintNode's name -> why we refuse it
REFUSED = {
    "collate": "PrintCloud's agents leave collation to the printer's default",
    "dpi": "PrintCloud's agents print at the printer's default resolution",
    "nup": "PrintCloud's agents print one page per sheet",
    "rotate": "PrintCloud's agents print pages as the document has them",
    "media": "PrintCloud knows trays and bins (PrintNode's 'bin'), not media types",
}


def our_options(options: dict[str, Any]) -> PrintOptions:
    """PrintNode's ``options`` as ours; BadRequest naming the first option refused."""
    ours: dict[str, Any] = {}
    for name, value in options.items():
        if name in NEUTRAL and type(value) is int and value == NEUTRAL[name]:
            continue
        if name in REFUSED:
            raise BadRequest(f"options.{name} is not supported: {REFUSED[name]}")
        if name not in MAPPED:
            known = ", ".join(sorted(MAPPED))
            raise BadRequest(f"options.{name} is not a PrintNode option PrintCloud knows ({known})")
        ours[MAPPED[name]] = value
    try:
        return PrintOptions.model_validate(ours)
    except ValidationError as exc:
        theirs = {v: k for k, v in MAPPED.items()}
        errors = [
            {**error, "loc": ("options", *(theirs.get(str(p), p) for p in error["loc"]))}
            for error in exc.errors()
        ]
        raise BadRequest(describe_validation_errors(errors)) from exc
