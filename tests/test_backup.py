"""`taizhang backup` and `taizhang restore`: a small synthetic county backed up, restored
into an empty data folder (and, on the PostgreSQL runs, an empty database) gives the same
figures and the same audit trail; a wrong passphrase or a damaged file is refused with
exit status 1 and nothing written.

Each installation runs the command in a process of its own (``installation.py``): a
restore replaces a database, which the test's own cannot be."""

from __future__ import annotations

import json
import stat

import pytest
from installation import Installation

PASSPHRASE = "a passphrase nobody could guess"
# The demographic figures and some of every other kind.
INDICATORS = [
    "--indicator",
    "POP_END,BIRTHS,DEATHS,CBR,CDR,TFR,SRB,MARRIAGE_RATE,CPR,CHECKUP_RATE,"
    "BENEFIT_PAID_RATE,CASE_CLOSURE_RATE,MOVES_IN_COUNTY,METHOD_STARTS",
    "--format",
    "json",
]

AUDIT = (
    "import json\n"
    "from taizhang.audit.models import AuditEntry\n"
    "rows = AuditEntry.objects.order_by('id').values_list('id', 'at', 'user_id', 'action', "
    "'object_id', 'detail')\n"
    "print(json.dumps([[i, at.isoformat(), u, a, o, d] for i, at, u, a, o, d in rows]))\n"
)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A county of 300 synthetic persons, its figures, its audit trail and its backup."""
    base = tmp_path_factory.mktemp("backup")
    made = []

    def installation(name):
        made.append(Installation(base / name))
        return made[-1]

    source = installation("source")
    done = source.run("generate", "--persons", "300", "--seed", "3")
    assert done.returncode == 0, done.stderr
    passphrase = base / "passphrase.txt"
    passphrase.write_text(PASSPHRASE + "\n")
    figures = source.run("indicators", "--org", "410325", "--period", "2025", *INDICATORS)
    assert figures.returncode == 0, figures.stderr
    audit = json.loads(source.python(AUDIT))
    backup = base / "county.tzb"
    done = source.run("backup", "-o", backup, "--passphrase-file", passphrase)
    assert done.returncode == 0, done.stderr
    yield {
        "base": base,
        "source": source,
        "figures": figures.stdout,
        "audit": audit,
        "backup": backup,
        "passphrase": passphrase,
        "installation": installation,
    }
    for each in made:
        each.drop()


def test_the_backup_is_one_private_file_that_holds_nothing_in_clear(county):
    backup = county["backup"]
    assert mode(backup) == 0o600
    data = backup.read_bytes()
    assert data.startswith(b"TZBACKUP")
    assert b"SQLite format" not in data and b"PGDMP" not in data
    key = (county["source"].folder / "secret.key").read_text().strip()
    assert key.encode() not in data


def test_a_restore_into_an_empty_folder_gives_the_same_figures_and_audit_trail(county):
    target = county["installation"]("restored")
    done = target.run("restore", county["backup"], "--passphrase-file", county["passphrase"])
    assert done.returncode == 0, done.stderr
    assert "Restored the backup of" in done.stdout
    assert "are as backed up" in done.stdout

    figures = target.run("indicators", "--org", "410325", "--period", "2025", *INDICATORS)
    assert figures.returncode == 0, figures.stderr
    assert json.loads(figures.stdout) == json.loads(county["figures"])

    # The same trail, then the restore's own entry (the source's next is its backup's).
    restored = json.loads(target.python(AUDIT))
    assert restored[:-1] == county["audit"]
    assert restored[-1][3] == "restore"

    # The key came back: the same file, private; every ID decrypts.
    folder = target.folder
    assert (folder / "secret.key").read_text() == (
        county["source"].folder / "secret.key"
    ).read_text()
    assert mode(folder / "secret.key") == 0o600
    assert mode(folder) == 0o700
    decrypted = target.python(
        "from taizhang.lib import crypto\n"
        "from taizhang.register.models import Person\n"
        "print(sum(1 for b in Person.objects.values_list('id_cipher', flat=True) if crypto.decrypt(b)))"
    )
    assert int(decrypted) > 250


def test_the_ledger_archive_comes_back(county):
    source = county["source"]
    done = source.run(
        "ledger",
        "births",
        "--village",
        "410325100201",
        "--month",
        "202511",
        "--format",
        "csv",
        "-o",
        county["base"] / "births.csv",
    )
    assert done.returncode == 0, done.stderr
    archived = sorted(
        p.relative_to(source.folder) for p in (source.folder / "archive").rglob("*") if p.is_file()
    )
    assert archived
    backup = county["base"] / "with-archive.tzb"
    assert (
        source.run("backup", "-o", backup, "--passphrase-file", county["passphrase"]).returncode
        == 0
    )
    target = county["installation"]("with-archive")
    done = target.run("restore", backup, "--passphrase-file", county["passphrase"])
    assert done.returncode == 0, done.stderr
    for relative in archived:
        assert (target.folder / relative).read_bytes() == (source.folder / relative).read_bytes()
        assert mode(target.folder / relative) == 0o600


@pytest.mark.parametrize(
    "damage", ["flip a byte", "flip a header byte", "cut short", "cut at a chunk", "append"]
)
def test_a_damaged_backup_is_refused_and_nothing_is_written(county, damage):
    data = bytearray(county["backup"].read_bytes())
    if damage == "flip a byte":
        data[len(data) // 2] ^= 0x01
    elif damage == "flip a header byte":
        data[20] ^= 0x01
    elif damage == "cut short":
        data = data[: len(data) - 1000]
    elif damage == "cut at a chunk":
        data = data[: 64 + 4 + (1 << 20) + 16]
    else:
        data += b"\0"
    damaged = county["base"] / f"damaged-{damage.replace(' ', '-')}.tzb"
    damaged.write_bytes(bytes(data))
    target = county["installation"](f"damaged-{damage.replace(' ', '-')}")
    done = target.run("restore", damaged, "--passphrase-file", county["passphrase"])
    assert done.returncode == 1, done.stderr
    assert "nothing was restored" in done.stderr
    assert "Traceback" not in done.stderr
    assert not target.folder.exists()
    assert target.tables() == 0


def test_a_wrong_passphrase_is_refused_and_nothing_is_written(county):
    wrong = county["base"] / "wrong.txt"
    wrong.write_text("not the passphrase at all\n")
    target = county["installation"]("wrong")
    done = target.run("restore", county["backup"], "--passphrase-file", wrong)
    assert done.returncode == 1
    assert done.stderr == (
        "county.tzb: the passphrase is not the one this backup was made with (or the file's "
        "header is damaged); nothing was restored\n"
    )
    assert not target.folder.exists()
    assert target.tables() == 0


@pytest.mark.parametrize(("line", "said"), [("", "is empty"), ("short", "has only 5 characters")])
def test_a_passphrase_shorter_than_ten_characters_is_refused(county, line, said):
    short = county["base"] / "short.txt"
    short.write_text(line + "\nthe second line is not read\n")
    done = county["source"].run(
        "backup", "-o", county["base"] / "never.tzb", "--passphrase-file", short
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"{short}: the passphrase (the file's first line) {said}; give one of at least 10 "
        "characters — a few words nobody could guess\n"
    )
    assert not (county["base"] / "never.tzb").exists()


def test_a_restore_goes_only_into_an_empty_data_folder(county):
    done = county["source"].run(
        "restore", county["backup"], "--passphrase-file", county["passphrase"]
    )
    assert done.returncode == 2
    assert "is not empty" in done.stderr
