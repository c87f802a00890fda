"""Column types and field helpers shared by the tables.

Two TypeDecorators do the conversions every read used to repeat by hand: timestamps
come back aware and in UTC on every database (SQLite returns naive ones), and
enumerated columns come back as the domain's StrEnum members. Both are stored as
before (a timestamp with time zone, a short string), so the schema is unchanged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from domain.clock import as_utc

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

E = TypeVar("E", bound=StrEnum)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp with time zone, written and read back as an aware UTC datetime.

    Written in UTC because SQLite keeps no offset: 10:36 at +05:30 would otherwise be
    stored, and read back, as 10:36 UTC. A naive value is taken to be UTC already."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        return as_utc(value)


class EnumText(sa.types.TypeDecorator[E]):
    """A StrEnum stored as its value in a VARCHAR, read back as the member.

    Binds take a member or its value (queries compare with `Tier.X.value`), and an
    unknown value is refused before it reaches the database."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_type: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_type = enum_type

    def process_bind_param(self, value: E | str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else self.enum_type(value)


def timestamp(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=UtcDateTime(), nullable=nullable, index=index)


def json_field(nullable: bool = False) -> Any:
    return Field(sa_type=JsonType, nullable=nullable)


def enum_field(enum_type: type[StrEnum], length: int) -> Any:
    return Field(sa_type=EnumText(enum_type, length), max_length=length)


def table_of(row: type[SQLModel]) -> sa.Table:
    """The Core table a SQLModel class maps, typed (SQLModel does not declare __table__)."""
    table = sa.inspect(row).local_table
    assert isinstance(table, sa.Table)
    return table


def values_of(row: SQLModel) -> dict[str, Any]:
    """The column values a row was built with (by its `of`): what a Core insert writes.

    Rows built to be written are made with `model_construct`, typed by pydantic's mypy
    plugin but without validation or the ORM's instrumentation, which would cost five
    times as much and are of no use to a Core statement."""
    return {name: row.__dict__[name] for name in row.model_fields_set}
