"""The repository holds no secret and no data folder."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tracked_files() -> list[str]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked release): nothing is tracked")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in out.split("\0") if name]


def secrets_among(names: list[str]) -> list[str]:
    """Key files, and anything inside a data folder (taizhang-data/ holds the keys, the
    database and the archive)."""
    return [
        name
        for name in names
        if "taizhang-data/" in f"/{name}"
        or name.endswith((".key", ".pem", ".sqlite3", ".sqlite3-wal"))
        or Path(name).name in ("secret.key", "django.key")
    ]


def test_the_rule_finds_the_files_a_data_folder_holds():
    names = [
        "taizhang/taizhang-data/django.key",
        "taizhang-data/taizhang.sqlite3",
        "deploy/secret.key",
        "docs/keys.md",
        "taizhang/lib/crypto.py",
    ]
    assert secrets_among(names) == names[:3]


def test_no_key_file_or_data_folder_is_tracked():
    assert secrets_among(tracked_files()) == []
