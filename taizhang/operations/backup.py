"""``taizhang backup`` and ``taizhang restore``: the whole installation in one encrypted file.

What a backup holds (a tar stream inside ``container``'s encryption):

- ``database/taizhang.sqlite3`` — SQLite: a consistent copy made by SQLite's online
  backup (``Connection.backup``, one step), safe while the server writes;
  or ``database/postgresql.dump`` — PostgreSQL: ``pg_dump --format=custom`` of one
  exported snapshot (``pg_export_snapshot`` in a REPEATABLE READ transaction), the same
  snapshot the manifest's figures are computed in. A backup restores into the same kind
  of database it was made from: both are the databases' own faithful copies.
- ``keys/secret.key`` (the master key in force, also when it comes from
  ``TAIZHANG_SECRET_KEY``) and ``keys/django.key`` when there is one;
- ``data/...`` — the rest of the data folder: the ledger archive, case attachments, the
  settings files (not the database, ``logs/``, ``static/`` or old keys);
- ``manifest.json`` last: when and from what it was made, the key's fingerprint, the
  applied migrations, the row count of every table, the audit trail's count and hash,
  the demographic figures of the top org unit for the two years before the backup, and
  each data file's size and SHA-256.

``restore`` reads the file twice: first to the end, writing nothing, so that a wrong
passphrase, a damaged or a cut-short file is refused before anything is written; then
into a private folder inside the data folder, from which the files are moved into place
and the database is put in (the SQLite file, or ``pg_restore --single-transaction``). It
then checks what it restored against the manifest.

Space: the backup needs room for one copy of the database beside the output file while
it runs (a private temporary folder there); restore needs room for the database and the
files once more in the data folder. Memory stays about a chunk (1 MiB) whatever the size.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.db import connection, transaction

import taizhang
from taizhang import clock, config
from taizhang.errors import UserError
from taizhang.lib import crypto
from taizhang.operations.container import BackupRefused, DecryptingReader, EncryptingWriter

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/taizhang.sqlite3"
POSTGRES_MEMBER = "database/postgresql.dump"
KEY_MEMBERS = {"keys/secret.key": crypto.KEY_FILE, "keys/django.key": "django.key"}
# Never in a backup's data/: the database (its own member), what is made again by itself,
# and keys that are not the one in force.
SKIPPED_FOLDERS = {"logs", "static"}
SKIPPED_NAMES = {crypto.KEY_FILE, "django.key", "secret.key.new"}
# What an empty data folder may hold: what every command makes as it starts.
ALLOWED_IN_EMPTY = {"django.key", "logs", "static"}


def _engine() -> str:
    return "sqlite" if config.database_settings()["ENGINE"].endswith("sqlite3") else "postgresql"


# ---------------------------------------------------------------------------
# Facts: what the manifest holds and restore checks


def facts(figures_of: dict | None = None) -> dict:
    """Row counts, the audit trail's count and hash, the applied migrations and a few
    figures, as the database in use has them. ``figures_of``: the org unit and periods of
    a manifest's figures (restore), else the top org unit and the two years before today."""
    return {
        "migrations": _migrations(),
        "counts": _counts(),
        "audit": _audit_digest(),
        "figures": _figures(figures_of),
    }


def _migrations() -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [list(row) for row in cursor.fetchall()]


def _tables() -> list[str]:
    from django.apps import apps

    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables.add(model._meta.db_table)
    existing = set(connection.introspection.table_names())
    return sorted(tables & existing)


def _counts() -> dict[str, int]:
    quote = connection.ops.quote_name
    out = {}
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
            out[table] = cursor.fetchone()[0]
    return out


def _audit_digest() -> dict:
    """The audit trail's entries in id order, each as canonical JSON, hashed."""
    import datetime as dt

    from taizhang.audit.models import AuditEntry

    digest = hashlib.sha256()
    n = 0
    columns = ["id", "at", "user_id", "action", "object_type", "object_id", "org_code"]
    for row in (
        AuditEntry.objects.order_by("id")
        .values_list(*columns, "source", "detail")
        .iterator(chunk_size=5000)
    ):
        values = list(row)
        values[1] = values[1].astimezone(dt.UTC).isoformat()
        line = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest.update(line.encode() + b"\n")
        n += 1
    return {"count": n, "sha256": digest.hexdigest()}


def _figures(figures_of: dict | None) -> dict | None:
    from taizhang.indicators.engine import compute_many
    from taizhang.orgunits.models import OrgUnit

    if figures_of is None:
        top = OrgUnit.objects.filter(parent__isnull=True).order_by("code").first()
        if top is None:
            return None
        year = clock.today().year
        figures_of = {"org": top.code, "periods": [str(year - 1), str(year - 2)]}
    computed = compute_many(figures_of["org"], figures_of["periods"], None)
    return {
        **{k: figures_of[k] for k in ("org", "periods")},
        "values": {
            period: [
                [i["code"], i["value"], i["numerator"], i["denominator"]]
                for i in computed[period, None]["indicators"]
            ]
            for period in figures_of["periods"]
        },
    }


# ---------------------------------------------------------------------------
# Backup


@dataclass
class Made:
    path: Path
    size: int
    manifest: dict


def backup(output: Path, passphrase: bytes, *, user=None, source: str = "cli") -> Made:
    """Write the backup file ``output`` (replaced only once the new one is whole)."""
    from taizhang.audit.actions import record as audit

    output = output.resolve()
    if output.is_dir():
        raise UserError(f"{output} is a folder: give the backup file's name with -o", status=2)
    if not output.parent.is_dir():
        raise UserError(f"{output.parent}: no such folder for the backup", status=2)
    engine = _engine()
    work = Path(tempfile.mkdtemp(prefix=".taizhang-backup-", dir=output.parent))
    partial = output.with_name(output.name + ".partial")
    try:
        if engine == "sqlite":
            database, member, manifest = _snapshot_sqlite(work)
        else:
            database, member, manifest = _snapshot_postgresql(work)
        manifest.update(
            format=FORMAT,
            made_at=clock.local_now().isoformat(timespec="seconds"),
            taizhang=taizhang.__version__,
            engine=engine,
            database=member,
            key={
                "fingerprint": crypto.fingerprint(),
                "source": "environment" if os.environ.get(crypto.ENV_VAR, "").strip() else "file",
            },
        )
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw:
            writer = EncryptingWriter(raw, passphrase)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                _add_file(tar, member, database)
                _add_bytes(tar, "keys/secret.key", crypto._master_key().hex().encode() + b"\n")
                django_key = config.data_dir() / "django.key"
                if django_key.is_file():
                    _add_file(tar, "keys/django.key", django_key)
                manifest["files"] = _add_data_folder(tar, skip={output, partial, work, database})
                _add_bytes(
                    tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                )
            writer.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    size = output.stat().st_size
    audit(
        "backup", user=user, object_type="backup", object_id=output.name, source=source, size=size
    )
    return Made(output, size, manifest)


def _snapshot_sqlite(work: Path) -> tuple[Path, str, dict]:
    """The database copied by SQLite's online backup in one step (one consistent
    snapshot, whatever the server writes meanwhile), and the facts read from the copy."""
    copy = work / "taizhang.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(copy)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    with _reading(copy):
        found = facts()
    return copy, SQLITE_MEMBER, found


@contextlib.contextmanager
def _reading(path: Path):
    """Django's connection on another SQLite file for the block (the backup's copy)."""
    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(path) + suffix).unlink()


def _postgres_env() -> dict[str, str]:
    settings = config.database_settings()
    env = dict(os.environ)
    env.update(
        PGHOST=settings["HOST"],
        PGPORT=str(settings["PORT"]),
        PGUSER=settings["USER"],
        PGDATABASE=settings["NAME"],
    )
    if settings["PASSWORD"]:
        env["PGPASSWORD"] = settings["PASSWORD"]
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise UserError(
            f"{name} is not installed (or not on PATH): a PostgreSQL database is backed up "
            "with pg_dump and restored with pg_restore, of the server's major version or "
            "newer — install the PostgreSQL client tools (Debian: apt install "
            "postgresql-client-15)",
            status=2,
        )
    return found


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, env=_postgres_env(), capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {done.returncode}"
        raise UserError(f"{what} failed: {reason}", status=2)


def _snapshot_postgresql(work: Path) -> tuple[Path, str, dict]:
    """``pg_dump`` of one exported snapshot, and the facts read in that same snapshot."""
    pg_dump = _tool("pg_dump")
    dump = work / "postgresql.dump"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        found = facts()
        _run(
            [
                pg_dump,
                "--format=custom",
                "--compress=0",
                f"--snapshot={snapshot}",
                f"--file={dump}",
            ],
            "pg_dump",
        )
    return dump, POSTGRES_MEMBER, found


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(clock.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


class _Hashing:
    def __init__(self, f):
        self.f, self.sha = f, hashlib.sha256()

    def read(self, n=-1):
        data = self.f.read(n)
        self.sha.update(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> tuple[str, int]:
    """Add ``path`` as ``name``; its SHA-256 and size."""
    with open(path, "rb") as f:
        info = tar.gettarinfo(fileobj=f, arcname=name)
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
        hashing = _Hashing(f)
        tar.addfile(info, hashing)
    return hashing.sha.hexdigest(), info.size


def _add_data_folder(tar: tarfile.TarFile, *, skip: set[Path]) -> list[dict]:
    """Every file of the data folder but the database, logs, static files, keys and
    what this backup itself writes; the list of them, with sizes and SHA-256s."""
    folder = config.data_dir()
    skip = {p.resolve() for p in skip}
    settings = config.database_settings()
    if settings["ENGINE"].endswith("sqlite3") and settings["NAME"] != ":memory:":
        database = Path(settings["NAME"]).resolve()
        skip |= {database, *(Path(str(database) + s) for s in ("-wal", "-shm", "-journal"))}
    files = []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not (here == folder and d in SKIPPED_FOLDERS)
            and not d.startswith((".taizhang-backup-", ".restore-"))
            and (here / d).resolve() not in skip
        )
        for name in sorted(names):
            path = here / name
            if here == folder and (name in SKIPPED_NAMES or name.startswith("secret.key.old-")):
                continue
            if path.resolve() in skip or path.is_symlink() or not path.is_file():
                continue
            if name.endswith(".rotating") or name.endswith(".partial"):
                continue
            relative = path.relative_to(folder).as_posix()
            try:
                sha, size = _add_file(tar, "data/" + relative, path)
            except FileNotFoundError:  # purged meanwhile
                continue
            files.append({"path": relative, "size": size, "sha256": sha})
    return files


# ---------------------------------------------------------------------------
# Restore


@dataclass
class Restored:
    manifest: dict
    files: int = 0
    key_written: bool = False
    migrated: bool = False
    differences: list[str] = field(default_factory=list)


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupRefused(f"the backup holds a file outside its folders ({name}): refused")
    return path


def _read_through(path: Path, passphrase: bytes) -> dict:
    """Pass 1: read the whole file, writing nothing; the manifest. Refuses a wrong
    passphrase, a damaged or cut-short file, a file without a manifest."""
    manifest = None
    members = set()
    with open(path, "rb") as raw:
        reader = DecryptingReader(raw, passphrase, path.name)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    _safe_member(member.name)
                    if not member.isfile():
                        raise BackupRefused(
                            f"{path.name}: the backup holds a link or a device: refused"
                        )
                    members.add(member.name)
                    f = tar.extractfile(member)
                    if member.name == MANIFEST:
                        manifest = json.loads(f.read())
                    else:
                        while f.read(1 << 20):
                            pass
        except tarfile.TarError:
            raise BackupRefused(
                f"{path.name}: the backup's contents are damaged; nothing was restored"
            ) from None
        reader.drain()
    if not isinstance(manifest, dict) or manifest.get("database") not in members:
        raise BackupRefused(
            f"{path.name}: the backup has no manifest or no database; nothing was restored"
        )
    if manifest.get("format") != FORMAT:
        raise BackupRefused(
            f"{path.name} was made by another version of Taizhang (manifest format "
            f"{manifest.get('format')}); restore it with that version or a newer one"
        )
    return manifest


def _refuse_unless_empty(manifest: dict) -> None:
    """Everything restore needs to be true before it writes anything."""
    folder = config.data_dir()
    engine = _engine()
    if manifest["engine"] != engine:
        wanted = (
            "unset TAIZHANG_DATABASE_URL (or give a sqlite:// one)"
            if manifest["engine"] == "sqlite"
            else "set TAIZHANG_DATABASE_URL to an empty PostgreSQL database"
        )
        raise UserError(
            f"this backup holds a {manifest['engine']} database and the database in use is "
            f"{engine}: {wanted}, and run restore again",
            status=2,
        )
    settings = config.database_settings()
    database = Path(settings["NAME"]).resolve() if engine == "sqlite" else None
    if folder.exists():
        extra = []
        for entry in sorted(folder.iterdir()):
            if entry.name in ALLOWED_IN_EMPTY:
                continue
            if (
                database is not None
                and entry.resolve()
                in {database, *(Path(str(database) + s) for s in ("-wal", "-shm"))}
                and _sqlite_is_empty(database)
            ):
                continue
            if entry.name == crypto.KEY_FILE and _key_file_matches(entry, manifest):
                continue
            extra.append(entry.name)
        if extra:
            raise UserError(
                f"the data folder {folder} is not empty ({', '.join(extra[:5])}"
                f"{', ...' if len(extra) > 5 else ''}): restore goes into an empty folder — "
                "set TAIZHANG_DATA to a new folder and run restore again",
                status=2,
            )
    if database is not None and not _sqlite_is_empty(database):
        raise UserError(
            f"the database {database} is not empty: restore goes into an empty one — point "
            "TAIZHANG_DATABASE_URL elsewhere, or set TAIZHANG_DATA to a new folder",
            status=2,
        )
    if engine == "postgresql":
        from taizhang.cli import _connect

        _connect()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_catalog.pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
            if cursor.fetchone()[0]:
                raise UserError(
                    f"the {config.database_label()} is not empty: restore goes into an empty "
                    "database — create one (createdb) and set TAIZHANG_DATABASE_URL to it",
                    status=2,
                )
        connection.close()
        _tool("pg_restore")
    configured = os.environ.get(crypto.ENV_VAR, "").strip()
    if (
        configured
        and crypto.fingerprint_of(crypto.master_key_from(configured))
        != manifest["key"]["fingerprint"]
    ):
        raise UserError(
            f"{crypto.ENV_VAR} is set to another key than the one this backup was made with: "
            f"unset it (the backup's key goes into {crypto.key_file()}), or set it to the "
            "backup's key, and run restore again",
            status=2,
        )
    _refuse_newer_migrations(manifest)


def _key_file_matches(path: Path, manifest: dict) -> bool:
    try:
        return (
            crypto.fingerprint_of(bytes.fromhex(path.read_text().strip()))
            == manifest["key"]["fingerprint"]
        )
    except (OSError, ValueError):
        return False


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return (
                db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
                == 0
            )
    except sqlite3.DatabaseError:
        return False


def _refuse_newer_migrations(manifest: dict) -> None:
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known]
    if unknown:
        raise UserError(
            f"this backup was made by a newer Taizhang ({manifest.get('taizhang')}; its "
            f"database has {', '.join(unknown[:3])} that this one does not know): install "
            "that version or a newer one, then restore",
            status=2,
        )


def verify(path: Path, passphrase: bytes) -> dict:
    """Read the whole backup ``path``, writing nothing (not even the data folder: Django
    need not be set up); its manifest. ``BackupRefused`` for a wrong passphrase, a
    damaged or cut-short file."""
    if not path.is_file():
        raise UserError(f"{path}: no such backup file")
    return _read_through(path, passphrase)


def restore(path: Path, passphrase: bytes, manifest: dict, *, source: str = "cli") -> Restored:
    """Restore the backup ``path`` (its ``manifest`` from ``verify``) into the empty data
    folder and the empty database, then check it against the manifest
    (``Restored.differences``)."""
    _refuse_unless_empty(manifest)
    folder = config.ensure_data_dir()
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=folder))
    result = Restored(manifest)
    try:
        database = _extract(path, passphrase, staging, manifest)
        result.files, result.key_written = _install_files(staging, folder, manifest)
        _install_database(database, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    crypto.reset_keys()
    _check(result)
    from taizhang.audit.actions import record as audit

    audit(
        "restore",
        object_type="backup",
        object_id=path.name,
        source=source,
        made_at=manifest["made_at"],
        differences=len(result.differences),
    )
    return result


def _extract(path: Path, passphrase: bytes, staging: Path, manifest: dict) -> Path:
    """Pass 2: every member into ``staging`` (checked again as it is read); the database."""
    expected = {"data/" + f["path"]: f["sha256"] for f in manifest["files"]}
    with open(path, "rb") as raw:
        reader = DecryptingReader(raw, passphrase, path.name)
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                relative = _safe_member(member.name)
                if member.name == MANIFEST:
                    continue
                target = staging.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                source = tar.extractfile(member)
                sha = hashlib.sha256()
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while block := source.read(1 << 20):
                        sha.update(block)
                        out.write(block)
                if member.name in expected and sha.hexdigest() != expected[member.name]:
                    raise BackupRefused(f"{path.name}: {member.name} does not match its checksum")
        reader.drain()
    return staging.joinpath(*PurePosixPath(manifest["database"]).parts)


def _install_files(staging: Path, folder: Path, manifest: dict) -> tuple[int, bool]:
    """The data files and the keys into the data folder. (files, whether secret.key was
    written — not when the key comes from TAIZHANG_SECRET_KEY)."""
    n = 0
    data = staging / "data"
    if data.is_dir():
        for source in sorted(p for p in data.rglob("*") if p.is_file()):
            target = folder / source.relative_to(data)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(source, target)
            n += 1
    key_written = False
    secret = staging / "keys" / "secret.key"
    if not os.environ.get(crypto.ENV_VAR, "").strip() and not (folder / crypto.KEY_FILE).exists():
        os.replace(secret, folder / crypto.KEY_FILE)
        key_written = True
    django_key = staging / "keys" / "django.key"
    if django_key.exists():
        os.replace(django_key, folder / "django.key")
    return n, key_written


def _install_database(database: Path, manifest: dict) -> None:
    if manifest["engine"] == "sqlite":
        target = Path(config.database_settings()["NAME"]).resolve()
        connection.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(target) + suffix).unlink()
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.move(database, target)
        config.make_private(target)
        return
    connection.close()
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={config.database_settings()['NAME']}",
            str(database),
        ],
        "pg_restore",
    )


def _check(result: Restored) -> None:
    """The restored register against the manifest: the key's fingerprint, a stored ID that
    decrypts, the tables' row counts, the audit trail and the figures."""
    from taizhang.cli import _connect, _migrate_if_needed
    from taizhang.operations import keys

    manifest, differences = result.manifest, result.differences
    _connect()
    before = _migrations()
    _migrate_if_needed()
    result.migrated = _migrations() != before
    if keys.stored_fingerprint() not in (None, manifest["key"]["fingerprint"]):
        differences.append("the register's key fingerprint is not the backup's")
    try:
        keys.check_key()
    except keys.KeyProblem as e:
        differences.append(str(e))
        return
    if crypto.fingerprint() != manifest["key"]["fingerprint"]:
        differences.append("the key in force is not the one the backup was made with")
    if not keys._reads_a_stored_value():
        differences.append("a stored ID number does not decrypt with the restored key")
    found = facts(manifest.get("figures"))
    if not result.migrated:
        for table, n in manifest["counts"].items():
            if found["counts"].get(table) != n:
                differences.append(
                    f"table {table}: {found['counts'].get(table)} rows, the backup had {n}"
                )
    if found["audit"] != manifest["audit"]:
        differences.append(
            f"the audit trail: {found['audit']['count']} entries, the backup had "
            f"{manifest['audit']['count']} (or their contents differ)"
        )
    if manifest.get("figures") and found["figures"] != manifest["figures"]:
        differences.append("the figures of the top org unit differ from the backup's")
