"""What the benchmark scripts share: running a timed command, fresh PostgreSQL databases."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from urllib.parse import urlparse, urlunparse


class BenchmarkError(Exception):
    """A command of the benchmark failed; the message says which and how."""


def taizhang_command() -> list[str]:
    """The ``taizhang`` entry point run by this Python (the package it imports is the one
    on this interpreter's path, not whichever copy a console script was installed from)."""
    return [sys.executable, "-c", "from taizhang.cli import main; main()"]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def timed(args: list[str], env: dict[str, str], what: str) -> tuple[float, float, str]:
    """Run a command: its wall-clock seconds, its CPU seconds and its standard output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        errors = "\n".join(done.stderr.strip().splitlines()[-20:])
        raise BenchmarkError(f"{what} failed with exit status {done.returncode}:\n{errors}")
    return seconds, cpu, done.stdout


class Postgres:
    """Fresh databases on the server of ``url``, created and dropped by the benchmark."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        if parsed.scheme not in ("postgres", "postgresql"):
            raise BenchmarkError(f"--database-url must be a postgresql:// URL, not {url}")
        self.url = url
        self.parsed = parsed

    def _admin(self):
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as e:
            raise BenchmarkError(f"cannot connect to {self.url}: {e}") from None

    def create(self, name: str) -> str:
        """Create (or re-create) database ``name``; its URL."""
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunparse(self.parsed._replace(path=f"/{name}"))

    def drop(self, name: str) -> None:
        """Drop database ``name``, closing any connection left to it."""
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
