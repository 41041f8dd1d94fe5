"""An installation of its own for a test: a data folder, on the PostgreSQL runs an empty
database of its own too, and the ``taizhang`` command run in a process of its own there —
as an administrator runs it, with the key in a file (no ``TAIZHANG_SECRET_KEY``)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def on_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _connect(dbname: str, **options):
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=dbname,
        **options,
    )


def _admin_connection():
    return _connect("postgres", autocommit=True)


class Installation:
    """``TAIZHANG_DATA=folder`` (and ``TAIZHANG_DATABASE_URL``, an empty database of its
    own, on the PostgreSQL runs); ``run(*args)`` is ``taizhang *args`` in a new process."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")}
        self.env["TAIZHANG_DATA"] = str(folder)
        self.database = None
        if on_postgresql():
            self.database = f"taizhang_test_{secrets.token_hex(6)}"
            with _admin_connection() as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
            db = settings.DATABASES["default"]
            password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
            self.env["TAIZHANG_DATABASE_URL"] = (
                f"postgresql://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{self.database}"
            )

    def run(self, *args, **env) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "from taizhang.cli import main; main()", *map(str, args)],
            capture_output=True,
            text=True,
            env={**self.env, **env},
            timeout=600,
        )

    def python(self, code: str, **env) -> str:
        """The output of ``code`` run with Django set up on this installation."""
        prelude = (
            "import os, django\n"
            "os.environ['DJANGO_SETTINGS_MODULE'] = 'taizhang.settings'\n"
            "django.setup()\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", prelude + code],
            capture_output=True,
            text=True,
            env={**self.env, **env},
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def tables(self) -> int:
        """How many tables the installation's database holds (0: empty)."""
        if self.database is None:
            database = self.folder / "taizhang.sqlite3"
            if not database.exists():
                return 0
            import sqlite3

            with sqlite3.connect(database) as db:
                return db.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type='table'"
                ).fetchone()[0]
        with _connect(self.database) as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()[0]

    def drop(self) -> None:
        if self.database:
            with _admin_connection() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
