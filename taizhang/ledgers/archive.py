"""The archive: every ledger file generated (and, later, every filled-in file returned) is
stored under ``<TAIZHANG_DATA>/archive/`` with a ``LedgerFile`` record, and removed when
it is older than the retention period.

Layout: ``archive/<YYYYMM>/<village>/<kind>-<village>-<YYYYMM>-<generated>-<sha8>.<fmt>``
(``returned/`` inside the month for returned files), so a month or a village is one folder.

Retention: ``TAIZHANG_RETENTION_MONTHS`` (a Django setting, or the environment variable of
that name), 24 months by default. A file is past retention when it was stored more than
that many months before today. ``purge`` lists them (a dry run by default) and, with
``apply=True``, removes the files, marks their records purged (the records stay) and
records the purge in the audit trail. Nothing in the register is ever purged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang import clock, config
from taizhang.audit.actions import record as audit
from taizhang.errors import UserError
from taizhang.ledgers.models import Direction, FileState, LedgerFile

DEFAULT_RETENTION_MONTHS = 24
ENV_VAR = "TAIZHANG_RETENTION_MONTHS"


def archive_dir() -> Path:
    return config.data_dir() / "archive"


def path_of(record: LedgerFile) -> Path:
    return archive_dir() / record.path


def retention_months() -> int:
    """The retention period in force, in months."""
    raw = getattr(settings, ENV_VAR, None)
    if raw is None:
        raw = os.environ.get(ENV_VAR, "")
    if raw in ("", None):
        return DEFAULT_RETENTION_MONTHS
    try:
        months = int(str(raw).strip())
    except ValueError:
        months = -1
    if months < 1:
        raise UserError(
            _("%(name)s must be a whole number of months (1 or more), not %(value)s.")
            % {"name": ENV_VAR, "value": raw}
        )
    return months


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))


def _write(path: Path, content: bytes) -> None:
    """Write atomically: a file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store(
    content: bytes,
    *,
    kind: str,
    village: str,
    month: int,
    file_format: str,
    rows: int,
    template_version: str,
    user=None,
    source: str = "",
    direction: str = Direction.GENERATED,
    created_at: dt.datetime | None = None,
    original_name: str = "",
    answers: LedgerFile | None = None,
) -> LedgerFile:
    """Store one file in the archive and record it."""
    created_at = created_at or clock.now()
    sha256 = hashlib.sha256(content).hexdigest()
    stamp = timezone.localtime(created_at).strftime("%Y%m%dT%H%M%S")
    folder = Path(f"{month:06d}") / village
    if direction == Direction.RETURNED:
        folder = Path(f"{month:06d}") / "returned" / village
    name = f"{kind}-{village}-{month:06d}-{stamp}-{sha256[:8]}"
    relative = folder / f"{name}.{file_format}"
    n = 1
    while (archive_dir() / relative).exists():  # the same file made twice in a second
        n += 1
        relative = folder / f"{name}-{n}.{file_format}"
    _write(archive_dir() / relative, content)
    return LedgerFile.objects.create(
        kind=kind,
        village=village,
        month=month,
        format=file_format,
        direction=direction,
        answers=answers,
        path=relative.as_posix(),
        original_name=original_name[:200],
        sha256=sha256,
        size=len(content),
        rows=rows,
        template_version=template_version,
        created_at=created_at,
        created_by=user,
        source=source,
    )


@dataclass
class PurgeResult:
    cutoff: dt.date  # files stored before this day are past retention
    months: int
    records: list[LedgerFile]
    applied: bool

    @property
    def bytes(self) -> int:
        return sum(r.size for r in self.records)


def expired(today: dt.date | None = None) -> tuple[dt.date, list[LedgerFile]]:
    """The cut-off day and the kept files stored before it, oldest first."""
    today = today or clock.today()
    cutoff = months_before(today, retention_months())
    start = dt.datetime.combine(cutoff, dt.time.min, tzinfo=timezone.get_current_timezone())
    records = LedgerFile.objects.filter(state=FileState.KEPT, created_at__lt=start).order_by(
        "created_at", "id"
    )
    return cutoff, list(records)


def purge(
    *, apply: bool = False, user=None, today: dt.date | None = None, source: str = ""
) -> PurgeResult:
    """The archive files past retention; with ``apply``, remove them, mark their records
    purged and audit the purge (one entry naming every record)."""
    cutoff, records = expired(today)
    result = PurgeResult(cutoff, retention_months(), records, apply)
    if not apply or not records:
        return result
    now = clock.now()
    # The files go inside the transaction that marks their records: should it fail, the
    # records still say "kept" and the next purge removes what is left.
    with transaction.atomic():
        ids = [r.pk for r in records]
        LedgerFile.objects.filter(pk__in=ids).update(state=FileState.PURGED, purged_at=now)
        audit(
            "ledger_purge",
            user=user,
            object_type="ledger_file",
            object_id="",
            source=source,
            cutoff=cutoff.isoformat(),
            retention_months=result.months,
            files=ids,
            bytes=result.bytes,
        )
        for r in records:
            path_of(r).unlink(missing_ok=True)
            r.state, r.purged_at = FileState.PURGED, now
    return result
