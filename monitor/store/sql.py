"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects import postgresql, sqlite

# An arbitrary constant: the advisory lock of what changes the schema or the set of feeds
# (migrations, `sync_feeds`), so that instances starting or reloading together take turns.
SCHEMA_LOCK = 7253001


def advisory_xact_lock(connection: Connection, key: int) -> None:
    """On PostgreSQL, wait for the advisory lock `key`, held until the transaction ends (commit
    or rollback, so a crash cannot leave it taken). SQLite needs none: its writers already take
    turns (BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def insert_ignoring_conflict(
    connection: Connection,
    table: Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> int | None:
    """INSERT that does nothing when the unique key already exists; returns the new primary key,
    or None when the row was already there. The database's unique key is the arbiter, so two
    processes racing on the same alert cannot both win."""
    statement = (
        _dialect_insert(connection, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(table.c.id)
    )
    row = connection.execute(statement).first()
    return None if row is None else int(row[0])


def _dialect_insert(connection: Connection, table: Table) -> Any:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database dialect {dialect!r} is not supported")


def insert_plain_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT many rows of plain values (integers, text: nothing SQLAlchemy would convert)
    straight through the driver's executemany. For hundreds of small rows, SQLAlchemy's
    per-row parameter processing costs more than the database's insert."""
    if not rows:
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608 - names from Table
        f" VALUES ({', '.join([mark] * len(columns))})",
        list(rows),
    )
