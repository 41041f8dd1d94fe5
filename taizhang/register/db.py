"""Bulk database helpers for the register's write path.

Imports write hundreds of thousands of rows; the ORM's per-object overhead would
dominate, so the write path inserts plain tuples with ``executemany`` on
Django's own connection (same transaction, both SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

CHUNK = 900  # stays under SQLite's limit on bound parameters per statement


def chunks(items: Sequence, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns the count."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is PostgreSQL's bulk path: an order of magnitude faster than INSERTs.
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(table), names, ", ".join(["%s"] * len(columns))
        )
        for part in chunks(rows, 20000):
            cursor.executemany(sql, part)
    return len(rows)


def analyze(tables: Sequence[str]) -> None:
    """Refresh the planner's statistics after a bulk write, so the indicator queries
    are planned for the tables as they now are (PostgreSQL plans badly without)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(quote(t) for t in tables))
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {quote(table)}")


def delete_where_in(table: str, column: str, values: Sequence) -> None:
    quote = connection.ops.quote_name
    select_where_in(f"DELETE FROM {quote(table)} WHERE {quote(column)} IN ({{in}})", values)


def select_where_in(sql: str, values: Sequence, *, extra: Sequence = ()) -> list[tuple]:
    """Run ``sql`` (with ``IN ({in})`` where the list goes) for all ``values``.

    SQLite takes the list in chunks of bound parameters; PostgreSQL takes it whole as
    one array (``= ANY(%s)``), sparing a round trip and a long parameter list per chunk.
    """
    values = list(values)
    out: list[tuple] = []
    if not values:
        return out
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.replace("IN ({in})", "= ANY(%s)"), [values, *extra])
            if cursor.description is not None:
                out.extend(cursor.fetchall())
            return out
        for part in chunks(values):
            cursor.execute(sql.format(**{"in": ", ".join(["%s"] * len(part))}), [*part, *extra])
            if cursor.description is not None:
                out.extend(cursor.fetchall())
    return out


def reserve_ids(table: str, n: int) -> list[int]:
    """Primary keys for ``n`` new rows, so related rows can be written in the same batch.

    The caller holds the write transaction (SQLite: BEGIN IMMEDIATE), so on SQLite no
    other writer can take the same numbers; PostgreSQL hands them out from the sequence.
    """
    if n <= 0:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [r[0] for r in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote(table)}")
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        if row and row[0] > top:
            top = row[0]
    return list(range(top + 1, top + 1 + n))


def adapt_date(value):
    """A date as the database driver takes it (ISO text for SQLite, the date itself otherwise)."""
    if value is None:
        return None
    return value.isoformat() if connection.vendor == "sqlite" else value


def date_adapter():
    """``adapt_date`` resolved once, for loops over a million rows."""
    if connection.vendor == "sqlite":
        return lambda value: value.isoformat() if value is not None else None
    return lambda value: value


def adapt_datetime(value):
    return connection.ops.adapt_datetimefield_value(value)
