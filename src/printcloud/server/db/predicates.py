"""Predicates that stay cheap on the hot paths.

``column.in_([...])`` with constant values renders an "expanding" parameter, which
SQLAlchemy rewrites into the SQL at every execution (``_literal_execute_expanding_
parameter`` was 8.5 % of a reconnection storm's CPU). The same test as equalities
joined by OR compiles once, is cached like any other statement, and both SQLite and
PostgreSQL plan it as the IN it means.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, or_


def one_of(column: SQLColumnExpression[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for a short constant list, with ordinary parameters."""
    return or_(*(column == value for value in sorted(values)))
