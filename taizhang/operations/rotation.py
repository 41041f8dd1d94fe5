"""``taizhang rotate-key``: every encrypted value and every blind index under a new key.

What is encrypted or indexed under the master key (``crypto.encrypt`` / ``blind_index``):

- ``register.Person``: ``id_cipher`` / ``id_index``, ``phone_cipher`` / ``phone_index``;
- ``register.Event``: ``spouse_id_cipher`` / ``spouse_id_index`` (a spouse outside the
  register);
- ``cases.Case``: ``petitioner_name_cipher``, ``petitioner_id_cipher`` /
  ``petitioner_id_index``, ``petitioner_phone_cipher``;
- ``ledgers.ReturnedRow.values``: an ID number filled into a returned ledger, kept as
  ``#`` + its blind index (re-indexed when the number is one the register holds; any
  other stays as it was — its number is nowhere to be read);
- the ledger archive's files (``ledgers.archive.seal``).

The steps, so that a stop at any point loses nothing:

1. the new key is written to ``secret.key.new`` (mode 600);
2. each archived file is sealed again under it, beside the old one (``*.rotating``);
3. one database transaction re-encrypts every value, recomputes every index, records the
   new key's fingerprint and the audit entry;
4. the ``*.rotating`` files replace the archived ones; ``secret.key`` becomes
   ``secret.key.old-<date>`` (mode 600) and ``secret.key.new`` becomes ``secret.key``.

A failure before step 3 commits removes what steps 1–2 wrote: the register is as it was.
A stop during step 4 is finished by the next command (``finish_interrupted``): the
register's fingerprint is then the new key's, which ``secret.key.new`` holds.

Ledgers printed before the rotation carry row keys signed with the old key: they no
longer verify when they come back, so print the month's ledgers again after rotating.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from taizhang import clock, config
from taizhang.errors import UserError
from taizhang.lib import crypto

BATCH = 2000
NEW_KEY_FILE = "secret.key.new"
STAGED_SUFFIX = ".rotating"


@dataclass
class Rotated:
    """What ``rotate_key`` re-encrypted: counts by what, the old key's new file name."""

    counts: dict[str, int] = field(default_factory=dict)
    old_key_file: Path | None = None
    fingerprint: str = ""
    unresolved_returned_ids: int = 0


def rotate_key(*, user=None, source: str = "cli") -> Rotated:
    """Re-encrypt the register under a new random key (the steps in the module's
    docstring). The key in force must be the register's (``check_key`` ran)."""
    if os.environ.get(crypto.ENV_VAR, "").strip():
        raise UserError(
            f"the key comes from {crypto.ENV_VAR}, which would still override a new "
            f"secret.key: rotate-key rotates the key file only. Write the key into "
            f"{crypto.key_file()} (64 hex characters), unset {crypto.ENV_VAR}, and run "
            "rotate-key again",
            status=2,
        )
    from taizhang.audit.actions import record as audit
    from taizhang.operations.keys import record_fingerprint

    old = crypto._master_key()
    new = secrets.token_bytes(32)
    folder = config.ensure_data_dir()
    new_file = folder / NEW_KEY_FILE
    config.write_private(new_file, new.hex() + "\n")
    staged: list[Path] = []
    result = Rotated(fingerprint=crypto.fingerprint_of(new))
    try:
        staged = _reseal_archive(old, new, result)
        with transaction.atomic():
            result.unresolved_returned_ids = _reindex_returned_rows(old, new, result)
            _reencrypt_persons(old, new, result)
            _reencrypt_events(old, new, result)
            _reencrypt_cases(old, new, result)
            record_fingerprint(result.fingerprint)
            audit(
                "rotate_key",
                user=user,
                object_type="key",
                object_id=result.fingerprint[:8],
                source=source,
                old_fingerprint=crypto.fingerprint_of(old)[:8],
                new_fingerprint=result.fingerprint[:8],
                **result.counts,
            )
    except BaseException:
        for path in staged:
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            new_file.unlink()
        raise
    result.old_key_file = _swap_files(folder)
    crypto.reset_keys()
    return result


def finish_interrupted(stored: str | None) -> bool:
    """Finish a rotation stopped after its transaction committed: when ``secret.key.new``
    holds the key whose fingerprint the register now has, move the files into place.
    Whether it did."""
    if not stored or os.environ.get(crypto.ENV_VAR, "").strip():
        return False
    folder = config.data_dir()
    new_file = folder / NEW_KEY_FILE
    try:
        new = bytes.fromhex(new_file.read_text().strip())
    except (OSError, ValueError):
        return False
    if crypto.fingerprint_of(new) != stored:
        return False
    _swap_files(folder)
    return True


def _swap_files(folder: Path) -> Path | None:
    """Step 4: the resealed archive files and the new key file into place."""
    from taizhang.ledgers.archive import archive_dir

    archive = archive_dir()
    if archive.is_dir():
        for staged in archive.rglob("*" + STAGED_SUFFIX):
            os.replace(staged, staged.with_name(staged.name[: -len(STAGED_SUFFIX)]))
    current = folder / crypto.KEY_FILE
    kept = None
    if current.exists():
        kept = _old_key_name(folder)
        os.replace(current, kept)
        config.make_private(kept)
    os.replace(folder / NEW_KEY_FILE, current)
    config.make_private(current)
    return kept


def _old_key_name(folder: Path) -> Path:
    day = clock.today().strftime("%Y%m%d")
    path = folder / f"secret.key.old-{day}"
    n = 2
    while path.exists():
        path = folder / f"secret.key.old-{day}-{n}"
        n += 1
    return path


# ---------------------------------------------------------------------------
# The archive


def _reseal_archive(old: bytes, new: bytes, result: Rotated) -> list[Path]:
    """Step 2: every sealed file of the archive sealed again under ``new``, beside it."""
    from taizhang.ledgers import archive

    top = archive.archive_dir()
    staged: list[Path] = []
    if not top.is_dir():
        return staged
    for path in sorted(top.rglob("*")):
        if not path.is_file() or path.name.endswith(STAGED_SUFFIX):
            continue
        raw = path.read_bytes()
        if not archive.is_sealed(raw):
            continue
        try:
            with crypto.using_key(old):
                content = archive.unseal(raw)
        except crypto.DecryptionError:
            raise UserError(
                f"the archived file {path} cannot be decrypted with the current key (it was "
                "altered, or sealed under another key): nothing was changed; move the file "
                "out of the archive and run rotate-key again",
                status=1,
            ) from None
        with crypto.using_key(new):
            sealed = archive.seal(content)
        target = path.with_name(path.name + STAGED_SUFFIX)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        staged.append(target)
        with os.fdopen(fd, "wb") as f:
            f.write(sealed)
            f.flush()
            os.fsync(f.fileno())
    result.counts["archived_files"] = len(staged)
    return staged


# ---------------------------------------------------------------------------
# The database


def _pages(model, columns: list[str], **filters):
    """Rows (pk first, then ``columns``) of ``model`` in primary-key order, ``BATCH`` at a
    time: updating as it goes never meets a row twice."""
    last = None
    while True:
        query = model.objects.filter(**filters).order_by("pk")
        if last is not None:
            query = query.filter(pk__gt=last)
        rows = list(query.values_list("pk", *columns)[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _decrypt(blob, where: str) -> str | None:
    if blob is None:
        return None
    try:
        return crypto.decrypt(blob)
    except crypto.DecryptionError as e:
        raise UserError(f"{where}: {e}; nothing was changed", status=1) from None


def _update(model, columns: list[str], rows: list[tuple]) -> None:
    """``UPDATE`` each row: ``rows`` hold the new values of ``columns``, then the pk."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(c) for c in columns]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {quote(model._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _reencrypt_persons(old: bytes, new: bytes, result: Rotated) -> None:
    from taizhang.register.models import Person

    n = 0
    for rows in _pages(Person, ["id_cipher", "phone_cipher"]):
        with crypto.using_key(old):
            plain = [
                (pk, _decrypt(i, f"person {pk}"), _decrypt(p, f"person {pk}")) for pk, i, p in rows
            ]
        with crypto.using_key(new):
            updates = [
                (
                    crypto.encrypt(number),
                    crypto.blind_index(number),
                    crypto.encrypt(phone) if phone is not None else None,
                    crypto.blind_index(phone, "phone") if phone else "",
                    pk,
                )
                for pk, number, phone in plain
            ]
        _update(Person, ["id_cipher", "id_index", "phone_cipher", "phone_index"], updates)
        n += len(updates)
    result.counts["persons"] = n


def _reencrypt_events(old: bytes, new: bytes, result: Rotated) -> None:
    from taizhang.register.models import Event

    n = 0
    for rows in _pages(Event, ["spouse_id_cipher"], spouse_id_cipher__isnull=False):
        with crypto.using_key(old):
            plain = [(pk, _decrypt(c, f"event {pk}")) for pk, c in rows]
        with crypto.using_key(new):
            updates = [(crypto.encrypt(s), crypto.blind_index(s), pk) for pk, s in plain]
        _update(Event, ["spouse_id_cipher", "spouse_id_index"], updates)
        n += len(updates)
    result.counts["events_with_an_outside_spouse"] = n


def _reencrypt_cases(old: bytes, new: bytes, result: Rotated) -> None:
    from taizhang.cases.models import Case

    columns = ["petitioner_name_cipher", "petitioner_id_cipher", "petitioner_phone_cipher"]
    n = 0
    for rows in _pages(Case, columns):
        with crypto.using_key(old):
            plain = [(pk, *(_decrypt(v, f"case {pk}") for v in values)) for pk, *values in rows]
        with crypto.using_key(new):
            updates = [
                (
                    *(crypto.encrypt(v) if v is not None else None for v in (name, number, phone)),
                    crypto.blind_index(number) if number else "",
                    pk,
                )
                for pk, name, number, phone in plain
            ]
        _update(Case, [*columns, "petitioner_id_index"], updates)
        n += sum(1 for u in updates if any(v is not None for v in u[:3]))
    result.counts["petitions"] = n


def _reindex_returned_rows(old: bytes, new: bytes, result: Rotated) -> int:
    """The ``#index`` values of returned ledger rows under the new key, for the numbers the
    register holds (read before the register itself is re-indexed). How many it could
    not re-index."""
    from taizhang.cases.models import Case
    from taizhang.ledgers.models import ReturnedRow
    from taizhang.register.models import Event, Person

    rows = [
        (pk, values)
        for pk, values in ReturnedRow.objects.values_list("pk", "values")
        if any(isinstance(v, str) and v.startswith("#") for v in (values or {}).values())
    ]
    wanted = {v[1:] for _, values in rows for v in values.values() if str(v).startswith("#")}
    found: dict[str, bytes] = {}
    for model, index, cipher in (
        (Person, "id_index", "id_cipher"),
        (Event, "spouse_id_index", "spouse_id_cipher"),
        (Case, "petitioner_id_index", "petitioner_id_cipher"),
    ):
        missing = sorted(wanted - found.keys())
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for i, blob in model.objects.filter(**{f"{index}__in": chunk}).values_list(
                index, cipher
            ):
                if blob is not None:
                    found.setdefault(i, bytes(blob))
    with crypto.using_key(old):
        numbers = {
            i: _decrypt(blob, "a returned ledger row's ID number") for i, blob in found.items()
        }
    with crypto.using_key(new):
        renamed = {i: crypto.blind_index(n) for i, n in numbers.items()}
    changed = []
    for pk, values in rows:
        new_values = {
            k: "#" + renamed[v[1:]]
            if isinstance(v, str) and v[1:] in renamed and v.startswith("#")
            else v
            for k, v in values.items()
        }
        if new_values != values:
            changed.append(ReturnedRow(pk=pk, values=new_values))
    ReturnedRow.objects.bulk_update(changed, ["values"], batch_size=500)
    result.counts["returned_ledger_rows"] = len(changed)
    return len(wanted - renamed.keys())
