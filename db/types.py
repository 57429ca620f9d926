"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.types import TypeDecorator

#: Discord snowflakes fit a signed 64-bit integer; SQLite's INTEGER is already 64-bit.
Snowflake = BigInteger().with_variant(Integer(), "sqlite")

#: Surrogate primary keys: SQLite only autoincrements a column declared exactly INTEGER.
IdColumn = BigInteger().with_variant(Integer(), "sqlite")


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the store; every timestamp must carry its timezone."""


class TZDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC.

    Naive datetimes are rejected rather than guessed at: a wrong guess shifts streaks, windows
    and schedules by hours without anyone noticing. SQLite has no timezone type, so the value is
    stored as naive UTC there (SQLAlchemy's SQLite DATETIME writes the fields of the UTC time
    and no zone) and given its UTC zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is UTC:
            # Most values (Discord's, the clock's) are UTC already: asking utcoffset() and
            # converting cost more than the rest of binding, on every row of a batch write.
            return value
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(
                f"naive datetime {value.isoformat()} rejected: pass a timezone-aware value "
                "(e.g. from the injected clock)"
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
