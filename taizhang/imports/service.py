"""Importing a file: one transaction, every bad row reported, nothing written on error.

``import_file`` reads a CSV/XLSX file (see ``readers``), hands its rows to the
importer of its kind, and commits only if every row is valid. Importing the same
file again changes nothing: rows the register already holds are recognised and
skipped, and a file that changes nothing leaves no trace.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from taizhang import clock
from taizhang.audit.actions import record as audit
from taizhang.imports.models import ImportBatch
from taizhang.imports.readers import FileError, Table, collector_paused, read_table, sha256_of

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the data row, 1 = first row after the header; 0 = the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return f"file: {self.message}"
        return f"row {self.row}: {self.column}: {self.message}"

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class Errors:
    """Collects row errors; each (row, column, message) once, reported in row order."""

    def __init__(self) -> None:
        self._seen: set[RowError] = set()

    def add(self, row: int, column: str, message: str) -> None:
        self._seen.add(RowError(row, column, message))

    def __bool__(self) -> bool:
        return bool(self._seen)

    def rows(self) -> set[int]:
        return {e.row for e in self._seen}

    def sorted(self) -> list[RowError]:
        return sorted(self._seen, key=lambda e: (e.row, e.column, e.message))


@dataclass
class ImportResult:
    kind: str
    rows: int
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Context:
    """What an importer gets besides the rows."""

    table: Table
    errors: Errors
    user: object = None
    batch: ImportBatch | None = None
    today: object = None
    progress: Progress | None = None


class _Rollback(Exception):
    pass


def importers() -> dict:
    from taizhang.benefits import imports as benefits
    from taizhang.cases import imports as cases
    from taizhang.corrections import imports as corrections
    from taizhang.imports import events, orgunits, persons
    from taizhang.quality import imports as quality
    from taizhang.targets import imports as targets

    return {
        "orgunits": orgunits.run,
        "persons": persons.run,
        "events": events.run,
        "corrections": corrections.run,
        "enrolments": benefits.run_enrolments,
        "payments": benefits.run_payments,
        "cases": cases.run,
        "targets": targets.run,
        "reports": quality.run_reports,
        "census": quality.run_census,
    }


def import_file(
    path: str | os.PathLike,
    kind: str | None = None,
    *,
    user=None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one file. Returns the counts, or the row errors (and then writes nothing)."""
    path = Path(path)
    runners = importers()
    if kind is not None and kind not in runners:
        names = "|".join(runners)
        return ImportResult(
            kind, 0, errors=[RowError(0, "", f"unknown kind {kind!r}: use {names}")]
        )
    if progress:
        progress("read", 0, 1)
    try:
        table = read_table(path, kind)
    except FileError as e:
        return ImportResult(kind or "", 0, errors=[RowError(0, "", str(e))])
    if table.kind not in runners:
        return ImportResult(
            table.kind,
            len(table.rows),
            errors=[RowError(0, "", f"importing {table.kind} files is not available yet")],
        )
    # An import allocates millions of small acyclic objects; the cycle collector would
    # rescan them over and over (a sixth of the time) and find nothing to free.
    with collector_paused():
        return _import_table(table, path, user=user, dry_run=dry_run, progress=progress)


def _import_table(table: Table, path: Path, *, user, dry_run: bool, progress) -> ImportResult:
    runners = importers()
    result = ImportResult(table.kind, len(table.rows), dry_run=dry_run)
    errors = Errors()
    for n in table.long_rows:
        errors.add(n, "(no header)", "there are values to the right of the last named column")
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                kind=table.kind,
                filename=path.name,
                sha256=sha256_of(path),
                rows=len(table.rows),
                user=user,
            )
            ctx = Context(table, errors, user, batch, clock.today(), progress)
            counts = runners[table.kind](ctx)
            result.counts = counts
            if errors:
                raise _Rollback
            changed = sum(v for k, v in counts.items() if not k.endswith("unchanged"))
            if dry_run or not changed:
                raise _Rollback
            batch.counts = counts
            batch.save(update_fields=["counts"])
            audit(
                "import",
                user=user,
                object_type="import_batch",
                object_id=batch.pk,
                source="cli",
                kind=table.kind,
                file=path.name,
                sha256=batch.sha256,
                counts=counts,
            )
    except _Rollback:
        pass
    result.errors = errors.sorted()
    return result
