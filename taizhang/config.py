"""Where Taizhang keeps its data and which database it uses.

With no configuration the data lives in an embedded SQLite database under
``./taizhang-data/``; ``TAIZHANG_DATA`` moves that folder and
``TAIZHANG_DATABASE_URL`` (``sqlite:///path`` or ``postgresql://...``) selects
another database.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

from taizhang.errors import UserError


def data_dir() -> Path:
    return Path(os.environ.get("TAIZHANG_DATA", "taizhang-data")).resolve()


def ensure_data_dir() -> Path:
    """The data folder, created if missing (mode 700); ``UserError`` when it cannot be.

    From here on the process makes its files private (``keep_files_private``): the
    database, the archive, the logs — everything the register writes — only for the
    account Taizhang runs as.
    """
    keep_files_private()
    path = data_dir()
    if path.exists() and not path.is_dir():
        raise UserError(f"the data folder {path} is a file, not a folder: check TAIZHANG_DATA")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(
            f"cannot create the data folder {path} ({e.strerror}): check TAIZHANG_DATA"
        ) from None
    return path


def keep_files_private() -> None:
    """Files and folders this process creates are its account's alone (umask 077): 600
    and 700. The data folder holds a register of persons."""
    os.umask(0o077)


def make_private(path: Path) -> None:
    """Take away group's and others' access to ``path`` if it exists (an older install's
    database file, say, made before files were private)."""
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)
    except OSError:
        pass  # not ours to change, or gone: the folder's own mode still guards it


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` with mode 600 (``exclusive``: only if it does not exist,
    else ``FileExistsError``)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    make_private(path)


def secret_file(name: str, nbytes: int = 32) -> bytes:
    """Read a key file from the data folder, creating it (mode 600) on first use.

    For keys that may be made again when lost (``django.key``: users log in again). The
    master key of ID numbers is never made here: ``taizhang.lib.crypto``."""
    path = ensure_data_dir() / name
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            write_private(path, secrets.token_hex(nbytes), exclusive=True)
    return bytes.fromhex(path.read_text().strip())


def database_label() -> str:
    """Where the register is, for messages: the SQLite file or the PostgreSQL database."""
    settings = database_settings()
    if settings["ENGINE"].endswith("sqlite3"):
        return str(settings["NAME"])
    return f"PostgreSQL database {settings['NAME']} on {settings['HOST']}:{settings['PORT']}"


def how_to_start_afresh() -> str:
    """What a user does to begin again with an empty register."""
    if not database_settings()["ENGINE"].endswith("sqlite3"):
        return "use an empty database (TAIZHANG_DATABASE_URL) and run the command again"
    return (
        "set TAIZHANG_DATA to a new folder, or, if what is there is a synthetic county you "
        f"no longer need, delete the folder {data_dir()}; then run the command again"
    )


def database_settings() -> dict:
    keep_files_private()  # before SQLite makes its file, wherever it is
    url = os.environ.get("TAIZHANG_DATABASE_URL", "")
    if not url:
        return _sqlite(ensure_data_dir() / "taizhang.sqlite3")
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        path = unquote(parsed.path[1:]) if parsed.path.startswith("/") else parsed.path
        if path:
            Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
        return _sqlite(Path(path).resolve() if path else ":memory:")
    if parsed.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or "postgres"),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "127.0.0.1",
            "PORT": str(parsed.port or 5432),
            "CONN_MAX_AGE": 60,
        }
    raise UserError(
        f"TAIZHANG_DATABASE_URL must start with sqlite:// or postgresql://, not {url!r}"
    )


def _sqlite(path) -> dict:
    """SQLite in WAL mode: readers never wait; one writer at a time, each transaction
    taking the write lock as it begins (IMMEDIATE). A command waits up to five minutes
    for the lock — a long import holds it the whole import; a page waits a few seconds
    only (``TAIZHANG_WEB_LOCK_WAIT``, set on each web request's connection by
    ``taizhang.web.middleware``) and then answers 503, try again in a minute."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "timeout": 300,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-200000;"
                "PRAGMA temp_store=MEMORY;"
            ),
        },
        # A server thread keeps its connection between requests (opening one and running
        # the pragmas is a good part of a small page's time); commands hold one anyway.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": ":memory:"},
    }
