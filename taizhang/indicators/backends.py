"""The indicator engine on DuckDB: the same Ibis expressions over a copy of the register.

The engine's figures are written once, over the unbound tables of
``taizhang.indicators.tables``; ``engine.running_on`` compiles them to another engine's
dialect. This module makes that engine a DuckDB database holding those tables, copied
(only the declared columns) from Django's database, so the figures computed there can be
checked against the database's own — the path to a columnar or distributed engine for a
province. Dates stay ``YYYYMMDD`` integers; ``date`` columns become DATE.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from django.db import connection

from taizhang.indicators import tables
from taizhang.indicators.engine import Backend

# Every table the indicators read.
TABLES: tuple[ir.Table, ...] = (
    tables.residence_spells,
    tables.union_spells,
    tables.method_spells,
    tables.birth_facts,
    tables.persons,
    tables.payments,
    tables.cases,
    tables.events,
    tables.attendances,
)

SQL_TYPES = {dt.Int64: "BIGINT", dt.Int32: "INTEGER", dt.String: "VARCHAR", dt.Date: "DATE"}
SQL_TYPES[dt.Boolean] = "BOOLEAN"
SQL_TYPES[dt.Timestamp] = "TIMESTAMP"  # in UTC, as the register stores moments

# How a table's rows are read from the source: (table name, column names) → an object
# DuckDB can scan (a list of tuples is copied in with INSERT; an Arrow table is scanned).
Reader = Callable[[str, list[str]], object]


def read_rows(table: str, columns: list[str]) -> list[tuple]:
    """A table's columns, read through Django's connection."""
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {table}")
        return cursor.fetchall()


def duckdb_backend(reader: Reader = read_rows, table_list: Iterable[ir.Table] = TABLES):
    """A DuckDB database in memory holding the register's indicator tables, and the
    ``Backend`` that runs the engine's queries on it. Returns (backend, connection)."""
    import duckdb

    con = duckdb.connect()
    # The engine counts many figures of a table in one query of conditional sums.
    con.execute("SET max_expression_depth TO 100000")
    for table in table_list:
        name, schema = table.get_name(), table.schema()
        columns = list(schema.names)
        declared = ", ".join(f'"{c}" {SQL_TYPES[type(t)]}' for c, t in schema.items())
        con.execute(f"CREATE TABLE {name} ({declared})")
        data = reader(name, columns)
        if isinstance(data, list):
            if any(isinstance(t, dt.Timestamp) for t in schema.types):
                data = [tuple(_utc(v) for v in row) for row in data]
            if data:
                marks = ", ".join("?" for _ in columns)
                con.executemany(f"INSERT INTO {name} VALUES ({marks})", data)
        else:
            con.register("source_rows", data)
            casts = ", ".join(f'CAST("{c}" AS {SQL_TYPES[type(t)]})' for c, t in schema.items())
            con.execute(f"INSERT INTO {name} SELECT {casts} FROM source_rows")
            con.unregister("source_rows")

    def execute(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    return Backend("duckdb", execute), con


def _utc(value: object) -> object:
    """A moment read from PostgreSQL (aware) as the naive UTC time SQLite stores: DuckDB
    would otherwise move it to the machine's time zone."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value
