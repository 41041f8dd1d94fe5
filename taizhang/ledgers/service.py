"""Generating ledger files: build, render, archive and audit, for one ledger or for every
village of an org unit in parallel.

Printing a ledger decrypts the ID and phone numbers of the persons it lists, so every
generated file is an audited action (``ledger_print``): who made it, which file, and the
persons whose numbers it prints.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from django.db import connections, transaction
from django.utils.translation import gettext as _

from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.ledgers import archive
from taizhang.ledgers.base import Request
from taizhang.ledgers.build import LedgerDoc, build, build_many, ledger_of, month_of
from taizhang.ledgers.declarations import KINDS
from taizhang.ledgers.models import LedgerFile
from taizhang.ledgers.render import FORMATS, render
from taizhang.lib import periods
from taizhang.orgunits.models import OrgUnit


def check_formats(formats: Sequence[str]) -> list[str]:
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise UserError(
            _("%(formats)s: the formats are %(valid)s.")
            % {"formats": ",".join(formats) or "(none)", "valid": ", ".join(FORMATS)},
            status=2,
        )
    return list(dict.fromkeys(wanted))


def archive_doc(
    doc: LedgerDoc, file_format: str, content: bytes, *, user=None, source: str = ""
) -> LedgerFile:
    """Store a rendered ledger in the archive and audit its printing, in one transaction."""
    with transaction.atomic():
        record = archive.store(
            content,
            kind=doc.ledger.kind,
            village=doc.village.code,
            month=doc.month_number,
            file_format=file_format,
            rows=len(doc.rows),
            template_version=doc.template_version,
            user=user,
            source=source,
            created_at=doc.generated_at,
        )
        audit(
            "ledger_print",
            user=user,
            object_type="ledger_file",
            object_id=record.pk,
            org_code=doc.village.code,
            source=source,
            kind=doc.ledger.kind,
            month=doc.month.code,
            format=file_format,
            rows=len(doc.rows),
            sha256=record.sha256,
            persons=doc.persons_printed(),
        )
    return record


def generate(
    kind: str,
    village: str,
    month: str,
    file_format: str,
    *,
    output: Path | None = None,
    user=None,
    source: str = "",
    now: dt.datetime | None = None,
) -> tuple[LedgerFile, bytes]:
    """One ledger file: built, rendered, written to ``output`` (when given), archived and
    audited. Returns the archive record and the file's bytes. A file that cannot be
    written is a ``UserError``, and then nothing is archived."""
    (file_format,) = check_formats([file_format])
    doc = build(kind, village, month, now=now)
    content = render(doc, file_format)
    if output is not None:
        write_file(output, content)
    return archive_doc(doc, file_format, content, user=user, source=source), content


def write_file(path: Path, content: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as e:
        raise UserError(
            _("%(path)s cannot be written: %(reason)s.") % {"path": path, "reason": e.strerror}
        ) from None


# ---------------------------------------------------------------------------
# Every village of an org unit


@dataclass
class VillageResult:
    village: str
    files: list[tuple[str, str, int]]  # (path written, sha256, rows)
    seconds: float


def villages_of(township: str, county: str | None = None) -> list[OrgUnit]:
    """The villages of an org unit — a township, or a village alone — checked to lie in
    ``county`` when given, in code order."""
    unit = OrgUnit.objects.filter(code=str(township).strip()).first()
    if unit is None:
        raise UserError(_("Org unit %(code)s is not in the register.") % {"code": township})
    if county and not unit.code.startswith(str(county).strip()):
        raise UserError(
            _("%(code)s %(name)s is not in county %(county)s.")
            % {"code": unit.code, "name": unit.name, "county": county}
        )
    if unit.is_village:
        return [unit]
    return list(OrgUnit.objects.subtree(unit.code).villages().order_by("code"))


def _chunk_files(
    codes: list[str],
    month: periods.Period,
    kinds: Sequence[str],
    formats: Sequence[str],
    out_dir: str,
    user_id: int | None,
    source: str,
) -> list[VillageResult]:
    """All the ledgers of a run of consecutive villages: each ledger queried once for the
    run, then rendered per village in every format, archived and written to
    ``out_dir/<village>/``."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    units = list(OrgUnit.objects.filter(code__in=codes).order_by("code"))
    request = Request(units[0].code, units[-1].code, month)
    results = {u.code: VillageResult(u.code, [], 0.0) for u in units}
    for kind in kinds:
        started = time.perf_counter()
        docs = build_many(kind, units, month, request=request)
        share = (time.perf_counter() - started) / len(units)  # the queries, shared out
        for code, doc in docs.items():
            started = time.perf_counter()
            folder = Path(out_dir) / code
            for file_format in formats:
                content = render(doc, file_format)
                path = folder / f"{kind}-{code}-{month.code}.{file_format}"
                write_file(path, content)
                record = archive_doc(doc, file_format, content, user=user, source=source)
                results[code].files.append((str(path), record.sha256, len(doc.rows)))
            results[code].seconds += share + time.perf_counter() - started
    return list(results.values())


def _worker_init() -> None:
    # Each process opens its own database connections (none is inherited: the parent
    # closed its own before the pool was made).
    connections.close_all()


def _chunk_job(args) -> list[VillageResult]:
    try:
        return _chunk_files(*args)
    finally:
        connections.close_all()


def chunked(villages: Sequence[OrgUnit], jobs: int, largest: int = 12) -> list[list[str]]:
    """Runs of consecutive villages of one township each, small enough that ``jobs``
    processes share the work: a run is queried at once, so fewer runs cost fewer queries."""
    size = max(1, min(largest, math.ceil(len(villages) / max(jobs, 1))))
    runs: list[list[str]] = []
    for v in villages:
        if runs and len(runs[-1]) < size and runs[-1][-1][:9] == v.code[:9]:
            runs[-1].append(v.code)
        else:
            runs.append([v.code])
    return runs


# Ledgers that share queries (the follow-ups due, the people due a check-up, the pregnant):
# when there are fewer runs of villages than processes, each process takes one group.
KIND_GROUPS: tuple[tuple[str, ...], ...] = (
    ("contraception", "migrants", "followup", "checkup", "screening"),
    ("births", "education", "family", "reports", "benefits", "cases"),
)


def generate_many(
    villages: Sequence[OrgUnit],
    month: str,
    out_dir: Path,
    *,
    kinds: Sequence[str] = KINDS,
    formats: Sequence[str] = ("pdf", "xlsx"),
    jobs: int = 1,
    user=None,
    source: str = "",
    progress: Callable[[VillageResult, int, int], None] | None = None,
) -> list[VillageResult]:
    """Every ledger of every village in ``villages`` (in code order) for ``month``, written
    to ``out_dir`` (one folder per village) and archived; ``jobs`` processes share the
    villages (and, for fewer runs of villages than processes, the ledgers). Returns one
    result per village, in the order they were finished."""
    kinds = [ledger_of(k).kind for k in kinds]
    formats = check_formats(formats)
    period = month_of(month)
    villages = sorted(villages, key=lambda v: v.code)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(
            _("%(path)s cannot be made: %(reason)s.") % {"path": out_dir, "reason": e.strerror}
        ) from None
    user_id = user.pk if user is not None else None
    runs = chunked(villages, jobs)
    groups = [kinds]
    if jobs > 1 and len(runs) < jobs:
        groups = [g for g in ([k for k in kinds if k in group] for group in KIND_GROUPS) if g]
        groups += [[k for k in kinds if not any(k in g for g in KIND_GROUPS)]]
        groups = [g for g in groups if g]
    tasks = [
        (run, period, group, formats, str(out_dir), user_id, source)
        for run in runs
        for group in groups
    ]
    pending = {code: len(groups) for run in runs for code in run}
    merged: dict[str, VillageResult] = {}
    results: list[VillageResult] = []

    def done(chunk: list[VillageResult]) -> None:
        for part in chunk:
            result = merged.setdefault(part.village, VillageResult(part.village, [], 0.0))
            result.files += part.files
            result.seconds += part.seconds
            pending[part.village] -= 1
            if pending[part.village] == 0:
                results.append(result)
                if progress:
                    progress(result, len(results), len(villages))

    if jobs <= 1 or len(tasks) == 1:
        for task in tasks:
            done(_chunk_files(*task))
        return results
    if connections["default"].in_atomic_block:
        raise UserError(_("Ledgers are made in parallel outside a transaction; use one job."))
    connections.close_all()
    context = multiprocessing.get_context("fork")
    workers = min(jobs, len(tasks))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_init
    ) as pool:
        futures = [pool.submit(_chunk_job, task) for task in tasks]
        for future in as_completed(futures):
            done(future.result())
    return results


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))
