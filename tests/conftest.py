"""Shared test setup: a fixed encryption key, and the `taizhang` command run in-process."""

import os

# Fixed key so tests never create or read a key file; set before any encryption happens.
os.environ.setdefault("TAIZHANG_SECRET_KEY", "0f" * 32)

import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402


@pytest.fixture
def taizhang():
    """Run the `taizhang` command in-process: taizhang("import", path, "--kind", "persons")."""
    from taizhang.cli import get_app

    runner = CliRunner()

    def run(*args):
        return runner.invoke(get_app(), [str(a) for a in args])

    return run


@pytest.fixture(autouse=True)
def english(settings):
    """Tests read messages in English (the msgids); the zh-Hans catalogue has its own test."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts and ends with an empty figure cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A data folder of the test's own (ledger files, the archive, logs)."""
    monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def fixed_clock():
    """The clock at 10:00 on 2026-12-03 in Beijing (and ticking from there), for tests
    whose data is made "up to yesterday" and whose results must not move with the date."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    moment = dt.datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=True):
        yield moment


@pytest.fixture
def hand_built_county(db, taizhang):
    """The hand-built reference county (tests/data/handbuilt), imported through the command."""
    from pathlib import Path

    data = Path(__file__).parent / "data" / "handbuilt"
    for kind in ("orgunits", "persons", "events"):
        result = taizhang("import", data / f"{kind}.csv", "--kind", kind)
        assert result.exit_code == 0, result.output
