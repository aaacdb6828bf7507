from __future__ import annotations

from datetime import datetime

from pydantic import Field

from printcloud.server.accounts.permissions import Permission
from printcloud.server.schemas import ApiInput, ApiModel

KEY_DESCRIPTION_MAX = 200


class LoginIn(ApiInput):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    key_description: str | None = Field(
        default=None,
        max_length=KEY_DESCRIPTION_MAX,
        description="[ext] What the new key is called in the key list, e.g. "
        '"Agent on Office-PC"; "Client login <date>" when omitted or blank',
    )


class UserOut(ApiModel):
    id: str
    first_name: str
    last_name: str
    email: str


class LoginOut(ApiModel):
    success: bool = True
    api_key: str
    user: UserOut


class ApiKeyIn(ApiInput):
    description: str = Field(default="", max_length=KEY_DESCRIPTION_MAX)
    permission: Permission = Permission.FULL


class ApiKeyCreated(ApiModel):
    id: str
    key: str = Field(description="The API key itself. It is shown this once.")
    description: str
    permission: Permission
    created_at: datetime


class ApiKeyOut(ApiModel):
    id: str
    description: str
    permission: Permission
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(
        description="[ext] When a request or an agent last authenticated with the key, "
        "to within 5 minutes; null if never"
    )
