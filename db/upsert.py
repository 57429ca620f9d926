"""``INSERT ... ON CONFLICT`` that works on SQLite and PostgreSQL alike.

Both dialects spell the clause the same way in SQLAlchemy but through different ``insert``
constructs; this picks the right one from the session's bind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def insert_for(session: AsyncSession, model: type[DeclarativeBase]) -> Any:
    """An insert for ``model`` that supports ``on_conflict_do_nothing/do_update``."""
    return insert_on(session.get_bind().dialect.name, model)


def insert_on(dialect: str, model: type[DeclarativeBase]) -> Any:
    """:func:`insert_for` by dialect name (for statements compiled once per dialect)."""
    table = model.__table__
    assert isinstance(table, Table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for database dialect {dialect!r}")
