"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Dialect, Table, any_, bindparam, text
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


def one_of(column: ColumnElement[Any], name: str, *, postgres: bool) -> ColumnElement[bool]:
    """`column IN (:name)`, the values bound as one list. On PostgreSQL `column = ANY(:name)`:
    one array parameter, so that the statement's text is the same whatever the number of
    values, and psycopg prepares it once (after five runs) instead of PostgreSQL planning each
    run anew: planning a lookup cost more than running it (0.5 vs 0.2 ms of server CPU for a
    document's key lookup, bench/README.md "Cluster")."""
    if postgres:
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


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
    if connection.dialect.name == "postgresql":
        # One statement of one array per column, not one run per row: about half the
        # server's CPU for a document's story keys (0.23 vs 0.40 ms, bench/README.md "Cluster").
        connection.exec_driver_sql(
            _unnest_insert(table, tuple(columns), connection.dialect),
            (*(list(column) for column in zip(*rows, strict=True)),),
        )
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608 - names from Table
        f" VALUES ({', '.join([mark] * len(columns))})",
        list(rows),
    )


@cache
def _unnest_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    """PostgreSQL: INSERT of `columns` from one array parameter each (built once per table)."""
    arrays = ", ".join(
        f"CAST(%s AS {postgresql.ARRAY(table.c[name].type).compile(dialect=dialect)})"
        for name in columns
    )
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608 - names from Table
        f" SELECT * FROM unnest({arrays})"
    )
