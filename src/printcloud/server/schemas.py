"""The base of every JSON shape: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel

from printcloud.protocol.nul import refuse_nul


class ApiModel(BaseModel):
    """A response body: built from Python names, or read from a row's attributes of the
    same names (``model_validate(row)``), and sent in the contract's camelCase."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        from_attributes=True,
    )


class ApiInput(ApiModel):
    """A request body: unknown fields are ignored, as the original API does; text with
    NUL anywhere is refused, naming where (:mod:`printcloud.protocol.nul`)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        extra="ignore",
        str_strip_whitespace=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return refuse_nul(data)


class ErrorBody(BaseModel):
    """Every error: ``{"code": "NotFound", "message": "..."}``."""

    code: str
    message: str
