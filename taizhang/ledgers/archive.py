"""The archive: every ledger file generated (and, later, every filled-in file returned) is
stored under ``<TAIZHANG_DATA>/archive/`` with a ``LedgerFile`` record, and removed when
it is older than the retention period.

Layout: ``archive/<YYYYMM>/<village>/<kind>-<village>-<YYYYMM>-<generated>-<sha8>.<fmt>``
(``returned/`` inside the month for returned files), so a month or a village is one folder.

Encryption at rest: a ledger prints ID and phone numbers in full, so every file is kept
encrypted with the installation's key (``taizhang.lib.crypto.encrypt_bytes``, AES-256-GCM)
behind the header ``MAGIC``, with mode 600 in folders of mode 700. The names of files
and folders are in clear; the record's SHA-256 and size are those of the file as made.
``read`` gives a file back as it was made (decrypted, its SHA-256 checked). A file
stored in clear by an earlier version is still read, and is encrypted on the way; the
ledgers migration ``0003_seal_archive`` encrypts them all once (``seal_clear``).

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
from taizhang.lib import crypto

DEFAULT_RETENTION_MONTHS = 24
ENV_VAR = "TAIZHANG_RETENTION_MONTHS"
# The first bytes of an archived file kept encrypted; what follows is
# ``crypto.encrypt_bytes(content, CONTEXT)``. A file without them was stored in clear.
MAGIC = b"TZARCHIVE1\n"
CONTEXT = b"taizhang-ledger-archive"


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


def seal(content: bytes) -> bytes:
    """A file's content as kept in the archive: encrypted with the installation's key."""
    return MAGIC + crypto.encrypt_bytes(content, CONTEXT)


def is_sealed(raw: bytes) -> bool:
    return raw.startswith(MAGIC)


def unseal(raw: bytes) -> bytes:
    """The content of a kept file (``raw`` as on disk); a file kept in clear as it is.
    ``crypto.DecryptionError`` when it was altered or sealed under another key."""
    if not is_sealed(raw):
        return raw
    return crypto.decrypt_bytes(raw[len(MAGIC) :], CONTEXT)


def _make_folder(folder: Path) -> None:
    """``folder`` and the folders above it up to the archive, each of mode 700."""
    top = archive_dir()
    chain = [folder, *folder.parents]
    chain = chain[: chain.index(top) + 1] if top in chain else [folder]
    for f in reversed(chain):  # the archive first, then each folder inside it
        if not f.is_dir():
            f.mkdir(mode=0o700, parents=True, exist_ok=True)


def _write(path: Path, data: bytes) -> None:
    """Write atomically (a file appears whole or not at all), mode 600."""
    _make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")  # mode 600
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _key_at_hand() -> bool:
    """Whether the installation's key is configured: sealing never makes a new one."""
    return (
        bool(os.environ.get(crypto.ENV_VAR, "").strip())
        or (config.data_dir() / crypto.KEY_FILE).is_file()
    )


def _key_opens(cipher) -> bool:
    """Whether the key in use decrypts ``cipher`` (a stored ID number; None: nothing to
    compare with)."""
    if cipher is None:
        return True
    try:
        crypto.decrypt(cipher)
    except crypto.DecryptionError:
        return False
    return True


def _register_cipher():
    from taizhang.register.models import Person

    return Person.objects.values_list("id_cipher", flat=True).order_by("pk").first()


def _may_seal(cipher) -> bool:
    """A clear file is sealed only under the register's own key, never under a key made
    for the occasion or a wrong one (which would lose the file)."""
    return _key_at_hand() and _key_opens(cipher)


def read(record: LedgerFile) -> bytes:
    """The archived file of ``record`` as it was made: decrypted, its SHA-256 checked
    against the record. A file kept in clear by an earlier version is encrypted in place on
    the way. ``UserError`` when the file was purged, is missing or altered, or cannot be
    decrypted with this installation's key."""
    if record.state == FileState.PURGED:
        raise UserError(
            _("%(path)s was purged on %(day)s (past the retention period).")
            % {"path": record.path, "day": timezone.localtime(record.purged_at).date()}
        )
    path = path_of(record)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(
            _("%(path)s is missing from the archive.") % {"path": record.path}
        ) from None
    try:
        content = unseal(raw)
    except crypto.DecryptionError:
        raise UserError(
            _(
                "%(path)s cannot be decrypted: it was altered, or the secret key "
                "(TAIZHANG_SECRET_KEY or secret.key) is not the one it was stored with."
            )
            % {"path": record.path},
            status=2,
        ) from None
    if hashlib.sha256(content).hexdigest() != record.sha256:
        raise UserError(
            _("%(path)s in the archive is not the file that was stored: it has been altered.")
            % {"path": record.path}
        )
    if not is_sealed(raw) and _may_seal(_register_cipher()):
        _write(path, seal(content))
    return content


def find(reference: str) -> LedgerFile:
    """The record of an archived file named by ``reference``: its record number, its path
    in the archive (``202611/410325100201/…``), or its path on disk under the archive."""
    text = str(reference).strip()
    record = None
    if text.isdigit():
        record = LedgerFile.objects.filter(pk=int(text)).first()
    else:
        relative = Path(text)
        if relative.is_absolute() or relative.exists():
            try:
                relative = relative.resolve().relative_to(archive_dir().resolve())
            except ValueError:
                relative = None
        if relative is not None:
            record = LedgerFile.objects.filter(path=relative.as_posix()).first()
    if record is None:
        raise UserError(_("%(file)s is not a file of the ledger archive.") % {"file": text})
    return record


def read_audited(record: LedgerFile, *, user=None, source: str = "") -> bytes:
    """``read``, the reading recorded in the audit trail (``ledger_archive_read``): an
    archived ledger holds ID and phone numbers in full."""
    content = read(record)
    audit(
        "ledger_archive_read",
        user=user,
        object_type="ledger_file",
        object_id=record.pk,
        org_code=record.village,
        source=source,
        path=record.path,
        sha256=record.sha256,
    )
    return content


def seal_clear(records, *, register_cipher=None) -> int:
    """Encrypt in place every file of ``records`` (with ``path`` and ``sha256``) still in
    clear, and make it mode 600; the number sealed. The one-time conversion of an archive
    made before files were encrypted (migration ``0003_seal_archive``). Nothing is sealed
    unless the installation's key is configured and decrypts ``register_cipher`` (a stored
    ID number of the register): the files then stay readable in clear, and ``read`` seals
    them once the key is right. A file missing, or not the one recorded, is left alone."""
    records = list(records)
    if not records or not _may_seal(register_cipher):
        return 0
    sealed = 0
    for r in records:
        path = archive_dir() / r.path
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if is_sealed(raw) or hashlib.sha256(raw).hexdigest() != r.sha256:
            continue
        _write(path, seal(raw))
        sealed += 1
    return sealed


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
    _write(archive_dir() / relative, seal(content))
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
