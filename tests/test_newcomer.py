"""A newcomer's first hour: the demo is built whole or not at all, an unfinished county is
rebuilt, and no traceback reaches anyone — a command says a sentence (exit 1) or names a
log file (exit 2), a page answers with a translated 500 page and a reference."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import path

from taizhang.accounts.decorators import public_view
from taizhang.audit.models import AuditEntry
from taizhang.register.models import Event, Person

pytestmark = pytest.mark.usefixtures("fixed_clock")


# ---------------------------------------------------------------------------
# The demo's county


@pytest.mark.django_db
def test_a_generation_that_fails_half_way_leaves_the_register_empty(monkeypatch):
    from taizhang.synthetic import quality, write

    def broken(*args, **kwargs):
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(quality, "write_quality", broken)
    with pytest.raises(RuntimeError):
        write.generate(500, 1)
    # The register, its petitions and benefits were written before the report forms
    # failed: all of it is gone with the transaction.
    from taizhang.benefits.models import Enrolment
    from taizhang.cases.models import Case
    from taizhang.orgunits.models import OrgUnit

    assert (Person.objects.count(), Event.objects.count(), OrgUnit.objects.count()) == (0, 0, 0)
    assert (Enrolment.objects.count(), Case.objects.count()) == (0, 0)
    assert not AuditEntry.objects.filter(action="generate").exists()


# Emptying the database (flush) cannot run inside a test's transaction on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_the_demo_rebuilds_a_county_left_unfinished_and_says_so(taizhang):
    import datetime as dt

    from taizhang.synthetic.simulate import simulate
    from taizhang.synthetic.write import write_county

    # What an older version left behind: persons and events written, the rest not.
    write_county(simulate(400, 2, end=dt.date(2026, 12, 2)))
    assert Person.objects.exists() and not AuditEntry.objects.filter(action="generate").exists()
    result = taizhang("demo", "--no-serve", "--persons", 500)
    assert result.exit_code == 0, result.output
    assert "left unfinished by an earlier demo: removing it and building it again" in result.output
    assert AuditEntry.objects.filter(action="generate").count() == 1
    generated = AuditEntry.objects.get(action="generate").detail
    assert (generated["persons"], generated["seed"]) == (500, 1)
    assert (
        Person.objects.count()
        == generated["persons_written"] + Person.objects.filter(mother__isnull=False).count()
    )


@pytest.mark.django_db
def test_the_demo_keeps_a_finished_county_and_says_how_to_start_afresh(taizhang):
    first = taizhang("demo", "--no-serve", "--persons", 500)
    assert first.exit_code == 0, first.output
    persons = Person.objects.count()
    again = taizhang("demo", "--no-serve", "--persons", 900)
    assert again.exit_code == 0, again.output
    assert "Using the county already in" in again.output
    assert f"({persons:,} persons)" in again.output
    assert Person.objects.count() == persons
    # The logins, as a table with its header row, one line per role.
    lines = again.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["Role", "User", "name"])
    rows = [line.split() for line in lines[header + 1 : header + 4]]
    assert [r[0] for r in rows] == ["县级管理员", "乡镇统计员", "村级专干"]
    assert [r[3] for r in rows] == ["county", "township", "village"]
    assert [r[5] for r in rows] == ["410325", "410325100", "410325100001"]


@pytest.mark.django_db
def test_a_county_from_imports_is_never_taken_for_an_unfinished_one(hand_built_county):
    from taizhang.web.cli import county_state

    assert county_state() == "complete"


@pytest.mark.django_db
def test_an_empty_register_is_empty():
    from taizhang.web.cli import county_state

    assert county_state() == "empty"


# ---------------------------------------------------------------------------
# Commands: a sentence or a log file, never a traceback


def run_main(monkeypatch, capsys, app):
    from taizhang import cli

    monkeypatch.setattr(cli, "get_app", lambda: app)
    monkeypatch.setattr(sys, "argv", ["taizhang", "indicators", "--org", "410325"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    return stopped.value.code, capsys.readouterr().err


def test_an_unexpected_error_names_its_log_file_and_exits_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))

    def app():
        return {}["no such key"]

    status, err = run_main(monkeypatch, capsys, app)
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    [log] = (tmp_path / "logs").glob("error-20261203-*.log")
    assert str(log) in err
    assert "(KeyError, reference 20261203-" in err
    text = log.read_text(encoding="utf-8")
    assert "doing: taizhang indicators --org 410325" in text
    assert "Traceback (most recent call last)" in text and "KeyError: 'no such key'" in text
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_a_user_error_anywhere_is_its_sentence_and_exit_1(monkeypatch, capsys, tmp_path):
    from taizhang.errors import UserError

    monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))

    def app():
        raise UserError("period 2024Q5: the quarter must be 1 to 4")

    status, err = run_main(monkeypatch, capsys, app)
    assert (status, err) == (1, "period 2024Q5: the quarter must be 1 to 4\n")
    assert not (tmp_path / "logs").exists()


def indicators_with(**env):
    """``taizhang indicators`` in a process of its own, with these environment variables."""
    return subprocess.run(
        [sys.executable, "-c", "from taizhang.cli import main; main()", "indicators"]
        + ["--org", "410325", "--period", "2025"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def indicators_on(database_url: str, data: Path):
    return indicators_with(TAIZHANG_DATA=str(data), TAIZHANG_DATABASE_URL=database_url)


def test_a_time_zone_that_does_not_exist_is_a_sentence(tmp_path):
    done = indicators_with(TAIZHANG_DATA=str(tmp_path), TAIZHANG_TIME_ZONE="Asia/Nowhere")
    assert (done.returncode, done.stderr) == (
        1,
        "TAIZHANG_TIME_ZONE='Asia/Nowhere' is not a time zone: give a name such as Asia/Shanghai\n",
    )


def test_a_data_folder_that_is_a_file_is_a_sentence(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    done = indicators_with(TAIZHANG_DATA=str(tmp_path / "data"))
    assert (done.returncode, done.stderr) == (
        1,
        f"the data folder {tmp_path / 'data'} is a file, not a folder: check TAIZHANG_DATA\n",
    )


def test_a_database_address_of_the_wrong_kind_is_a_sentence(tmp_path):
    done = indicators_on("mysql://root@localhost/taizhang", tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        "TAIZHANG_DATABASE_URL must start with sqlite:// or postgresql://, not "
        "'mysql://root@localhost/taizhang'\n"
    )


def test_a_database_that_does_not_answer_is_a_sentence(tmp_path):
    done = indicators_on("postgresql://postgres@127.0.0.1:1/taizhang", tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "cannot open the database (PostgreSQL database taizhang on 127.0.0.1:1): "
    )
    assert done.stderr.rstrip().endswith(
        "check TAIZHANG_DATABASE_URL and that the database server is running"
    )
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------------
# Pages: the translated 500 page


def boom(request):
    raise ZeroDivisionError("division by zero in a figure")


urlpatterns = [path("boom/", public_view(boom))]
handler500 = "taizhang.web.views.errors.server_error"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["出错了", "这不是您的操作造成的", "请告诉县级管理员"]),
        ("en", ["Something went wrong", "not because of anything you did", "county administrator"]),
    ],
)
def test_a_page_that_fails_answers_a_translated_500_with_a_reference(
    client, settings, tmp_path, monkeypatch, language, words
):
    monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))
    client.raise_request_exception = False
    page = client.get("/boom/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 500
    body = page.content.decode()
    assert all(w in body for w in words), body
    assert "Traceback" not in body and "ZeroDivisionError" not in body
    [log] = (tmp_path / "logs").glob("error-*.log")
    reference = log.stem.removeprefix("error-")
    assert f"<strong>{reference}</strong>" in body
    text = log.read_text(encoding="utf-8")
    assert "doing: GET /boom/ by anonymous" in text
    assert "ZeroDivisionError: division by zero in a figure" in text
