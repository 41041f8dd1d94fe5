"""Where Taizhang keeps its data and which database it uses.

With no configuration the data lives in an embedded SQLite database under
``./taizhang-data/``; ``TAIZHANG_DATA`` moves that folder and
``TAIZHANG_DATABASE_URL`` (``sqlite:///path`` or ``postgresql://...``) selects
another database.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

from taizhang.errors import UserError


def data_dir() -> Path:
    return Path(os.environ.get("TAIZHANG_DATA", "taizhang-data")).resolve()


def ensure_data_dir() -> Path:
    """The data folder, created if missing; ``UserError`` when it cannot be."""
    path = data_dir()
    if path.exists() and not path.is_dir():
        raise UserError(f"the data folder {path} is a file, not a folder: check TAIZHANG_DATA")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(
            f"cannot create the data folder {path} ({e.strerror}): check TAIZHANG_DATA"
        ) from None
    return path


def secret_file(name: str, nbytes: int = 32) -> bytes:
    """Read a key file from the data folder, creating it (mode 600) on first use."""
    path = ensure_data_dir() / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(nbytes))
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
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-200000;"
                "PRAGMA temp_store=MEMORY;"
            ),
        },
        "TEST": {"NAME": ":memory:"},
    }
