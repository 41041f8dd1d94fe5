"""The key the register was written with: a missing or different key stops every command
(exit 2, a sentence, nothing written) and the web app (503), and no new key is made over
encrypted data; `taizhang rotate-key` re-encrypts everything under a new key; the data
folder and its files are private.

The commands run in processes of their own on an installation of their own
(``installation.py``), with the key in a file as an administrator has it; the rotation
and the web app's guard run in this process, on the test's database."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from installation import Installation

from taizhang.lib import crypto
from taizhang.lib.idnumber import make

MISSING = (
    "The secret key that the register in {db} was written with is missing: {file} does not exist"
)
DIFFERENT = "The secret key in {where} is not the key that the register in {db} was written with"
WHAT_TO_DO = "put back the key file from your backup"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A small synthetic county in an installation of its own, and a persons file."""
    base = tmp_path_factory.mktemp("keys")
    site = Installation(base / "data")
    done = site.run("generate", "--persons", "200", "--seed", "5")
    assert done.returncode == 0, done.stderr
    persons = base / "persons.csv"
    persons.write_text(
        "id_number,name,sex,village\n"
        f"{make('410325', dt.date(1990, 1, 1), 77)},新来的,M,410325100201\n",
        encoding="utf-8",
    )
    site.persons_file = persons
    yield site
    site.drop()


def database_label(site) -> str:
    if site.database:
        from django.conf import settings

        db = settings.DATABASES["default"]
        return f"PostgreSQL database {site.database} on {db['HOST']}:{db['PORT']}"
    return str(site.folder / "taizhang.sqlite3")


def persons(site) -> int:
    return int(
        site.python("from taizhang.register.models import Person; print(Person.objects.count())")
    )


@pytest.fixture
def key_moved_away(county):
    """The county's key file, moved out of the data folder for the test and put back."""
    key = county.folder / "secret.key"
    kept = county.folder.parent / "secret.key.kept"
    key.rename(kept)
    yield key
    key.unlink(missing_ok=True)
    kept.rename(key)


class TestMissingKey:
    @pytest.mark.parametrize(
        "command",
        [
            ["import", "PERSONS", "--kind", "persons"],
            ["indicators", "--org", "410325", "--period", "2025"],
            [
                "ledger",
                "births",
                "--village",
                "410325100201",
                "--month",
                "202511",
                "--format",
                "csv",
                "-o",
                "OUT",
            ],
            ["backup", "-o", "OUT", "--passphrase-file", "PERSONS"],
            ["rotate-key"],
        ],
    )
    def test_it_stops_every_command_with_exit_2_and_a_sentence(
        self, county, key_moved_away, command
    ):
        before = persons(county)
        out = county.folder.parent / "out.file"
        args = [{"PERSONS": county.persons_file, "OUT": out}.get(a, a) for a in command]
        done = county.run(*args)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(MISSING.split("{db}")[0]), done.stderr
        assert database_label(county) in done.stderr
        assert f"{key_moved_away} does not exist and TAIZHANG_SECRET_KEY is not set" in done.stderr
        assert WHAT_TO_DO in done.stderr and "taizhang restore" in done.stderr
        assert "Traceback" not in done.stderr
        # No new key made over the encrypted register, nothing written.
        assert not key_moved_away.exists()
        assert not out.exists()
        assert persons(county) == before

    def test_the_server_refuses_to_start(self, county, key_moved_away):
        done = county.run("serve", "--port", "8799")
        assert done.returncode == 2
        assert "is missing" in done.stderr
        assert not key_moved_away.exists()

    def test_putting_the_key_back_brings_everything_back(self, county, key_moved_away):
        assert county.run("indicators", "--org", "410325", "--period", "2025").returncode == 2
        (county.folder.parent / "secret.key.kept").rename(key_moved_away)
        done = county.run("indicators", "--org", "410325", "--period", "2025")
        assert done.returncode == 0, done.stderr
        key_moved_away.rename(county.folder.parent / "secret.key.kept")  # for the fixture


class TestDifferentKey:
    def test_another_key_file_stops_the_import_and_writes_nothing(self, county):
        key = county.folder / "secret.key"
        right = key.read_text()
        before = persons(county)
        key.write_text(os.urandom(32).hex() + "\n")
        try:
            done = county.run("import", county.persons_file, "--kind", "persons")
        finally:
            key.write_text(right)
        assert done.returncode == 2
        assert done.stderr.startswith(DIFFERENT.format(where=key, db=database_label(county)))
        assert WHAT_TO_DO in done.stderr
        assert persons(county) == before

    def test_another_key_in_the_environment_stops_the_figures(self, county):
        done = county.run(
            "indicators", "--org", "410325", "--period", "2025", TAIZHANG_SECRET_KEY="b7" * 32
        )
        assert done.returncode == 2
        assert done.stderr.startswith("The secret key in TAIZHANG_SECRET_KEY is not the key")

    def test_the_right_key_in_the_environment_is_the_key(self, county):
        key = (county.folder / "secret.key").read_text().strip()
        done = county.run(
            "indicators", "--org", "410325", "--period", "2025", TAIZHANG_SECRET_KEY=key
        )
        assert done.returncode == 0, done.stderr


def test_a_fresh_install_makes_its_key_and_records_its_fingerprint(tmp_path):
    site = Installation(tmp_path / "fresh")
    try:
        done = site.run("import", tmp_path / "missing.csv")  # any command: no such file
        assert done.returncode == 1
        done = site.run("indicators", "--org", "410325", "--period", "2025")
        assert done.returncode == 1  # no such org unit yet: but the key is made
        key = site.folder / "secret.key"
        assert mode(key) == 0o600
        stored = site.python(
            "from taizhang.operations.models import KeyFingerprint\n"
            "from taizhang.lib import crypto\n"
            "print(KeyFingerprint.objects.get().fingerprint == crypto.fingerprint())"
        )
        assert stored.strip() == "True"
        # Before anything is encrypted, a lost key is simply made again.
        key.unlink()
        assert site.run("indicators", "--org", "410325", "--period", "2025").returncode == 1
        assert key.exists()
    finally:
        site.drop()


def test_the_data_folder_and_its_files_are_private(county):
    folder = county.folder
    assert mode(folder) == 0o700
    for name in ("secret.key", "django.key"):
        assert mode(folder / name) == 0o600
    if county.database is None:
        assert mode(folder / "taizhang.sqlite3") == 0o600
    out = folder.parent / "births.csv"
    assert (
        county.run(
            "ledger",
            "births",
            "--village",
            "410325100201",
            "--month",
            "202511",
            "--format",
            "csv",
            "-o",
            out,
        ).returncode
        == 0
    )
    archived = [p for p in (folder / "archive").rglob("*")]
    assert archived
    assert all(mode(p) == (0o700 if p.is_dir() else 0o600) for p in archived)


def test_an_older_install_s_open_files_are_made_private(county):
    folder = county.folder
    folder.chmod(0o755)
    (folder / "django.key").chmod(0o644)
    if county.database is None:
        (folder / "taizhang.sqlite3").chmod(0o644)
    assert county.run("indicators", "--org", "410325", "--period", "2025").returncode == 0
    assert mode(folder) == 0o700
    assert mode(folder / "django.key") == 0o600
    if county.database is None:
        assert mode(folder / "taizhang.sqlite3") == 0o600


# ---------------------------------------------------------------------------
# In this process: the key in a file of the test's data folder


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    """The key in ``tmp_path/data/secret.key`` (no TAIZHANG_SECRET_KEY)."""
    monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("TAIZHANG_SECRET_KEY", raising=False)
    crypto.reset_keys()
    path = crypto.create_key_file()
    yield path
    monkeypatch.undo()
    crypto.reset_keys()


class TestCrypto:
    def test_without_a_key_file_it_makes_none_and_says_so(self, tmp_path, monkeypatch):
        monkeypatch.setenv("TAIZHANG_DATA", str(tmp_path))
        monkeypatch.delenv("TAIZHANG_SECRET_KEY", raising=False)
        crypto.reset_keys()
        try:
            with pytest.raises(crypto.KeyMissing) as caught:
                crypto.encrypt("410325199001011234")
            assert caught.value.status == 2
            assert not (tmp_path / "secret.key").exists()
        finally:
            monkeypatch.undo()
            crypto.reset_keys()

    def test_the_fingerprint_tells_keys_apart_and_reveals_neither(self, key_file):
        master = bytes.fromhex(key_file.read_text())
        assert crypto.fingerprint() == crypto.fingerprint_of(master)
        assert crypto.fingerprint() != crypto.fingerprint_of(os.urandom(32))
        assert len(crypto.fingerprint()) == 32
        assert master.hex() not in crypto.fingerprint()
        assert crypto.blind_index("x") not in crypto.fingerprint()

    def test_using_another_key_for_a_block(self, key_file):
        other = os.urandom(32)
        with crypto.using_key(other):
            blob = crypto.encrypt("410325199001011234")
            assert crypto.fingerprint() == crypto.fingerprint_of(other)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(blob)
        with crypto.using_key(other):
            assert crypto.decrypt(blob) == "410325199001011234"


@pytest.mark.django_db
class TestWebGuard:
    def call(self, app):
        seen = {}

        def start_response(status, headers):
            seen["status"], seen["headers"] = status, dict(headers)

        body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, start_response))
        return seen["status"], body.decode()

    def test_every_request_answers_503_with_the_sentence_while_the_key_is_another(
        self, hand_built_county, monkeypatch
    ):
        from taizhang.operations.keys import guard

        def app(environ, start_response):
            start_response("200 OK", [])
            return [b"the page"]

        guarded = guard(app)
        assert self.call(guarded) == ("200 OK", "the page")
        monkeypatch.setenv("TAIZHANG_SECRET_KEY", "c4" * 32)
        crypto.reset_keys()
        guarded = guard(app)
        try:
            status, body = self.call(guarded)
        finally:
            monkeypatch.undo()
            crypto.reset_keys()
        assert status == "503 Service Unavailable"
        assert "the page" not in body
        assert "is not the key that the register" in body
        assert "taizhang restore" in body and "密钥" in body
        # The right key again: the same guard lets requests through without a restart.
        assert self.call(guarded) == ("200 OK", "the page")


@pytest.mark.django_db
class TestRotateKey:
    def test_every_id_still_decrypts_and_is_still_found(
        self, key_file, hand_built_county, taizhang, tmp_path
    ):
        from taizhang.audit.models import AuditEntry
        from taizhang.operations.models import KeyFingerprint
        from taizhang.register.models import Event, Person

        # hand_built_county was imported under the file's key (the fixture ran first).
        before = {
            p.pk: (crypto.decrypt(p.id_cipher), p.phone_cipher and crypto.decrypt(p.phone_cipher))
            for p in Person.objects.all()
        }
        assert before
        old_key = key_file.read_text()
        old_index = {pk: crypto.blind_index(number) for pk, (number, _) in before.items()}
        outside = list(
            Event.objects.exclude(spouse_id_cipher=None).values_list("pk", "spouse_id_cipher")
        )
        outside_before = {pk: crypto.decrypt(c) for pk, c in outside}

        done = taizhang("rotate-key")
        assert done.exit_code == 0, done.output
        assert "Rotated the key" in done.output

        crypto.reset_keys()
        assert key_file.read_text() != old_key
        [kept] = key_file.parent.glob("secret.key.old-*")
        assert kept.read_text() == old_key
        assert mode(kept) == 0o600 and mode(key_file) == 0o600
        assert not (key_file.parent / "secret.key.new").exists()
        assert KeyFingerprint.objects.get().fingerprint == crypto.fingerprint()

        for person in Person.objects.all():
            number, phone = before[person.pk]
            assert crypto.decrypt(person.id_cipher) == number
            assert (crypto.decrypt(person.phone_cipher) if person.phone_cipher else None) == (
                phone or None
            )
            assert person.id_index == crypto.blind_index(number) != old_index[person.pk]
            # A search by ID number finds the person under the new key.
            assert Person.objects.get(id_index=crypto.blind_index(number)) == person
        for pk, number in outside_before.items():
            event = Event.objects.get(pk=pk)
            assert crypto.decrypt(event.spouse_id_cipher) == number
            assert event.spouse_id_index == crypto.blind_index(number)
        entry = AuditEntry.objects.get(action="rotate_key")
        assert entry.detail["persons"] == len(before)
        assert old_key.strip() not in str(entry.detail)

    def test_it_finds_the_person_on_the_people_page(
        self, key_file, hand_built_county, taizhang, client
    ):
        from django.urls import reverse
        from helpers import make_user

        from taizhang.accounts.models import Role
        from taizhang.register.models import Person

        person = Person.objects.order_by("pk").first()
        number = crypto.decrypt(person.id_cipher)
        assert taizhang("rotate-key").exit_code == 0
        crypto.reset_keys()
        client.force_login(make_user("ada", Role.COUNTY_ADMIN, "410325"))
        page = client.post(reverse("people"), {"q": number}, follow=True)
        assert [row.name for row in page.context["rows"]] == [person.name]

    def test_a_key_from_the_environment_is_not_rotated(self, taizhang, db):
        done = taizhang("rotate-key")
        assert done.exit_code == 2
        assert "the key comes from TAIZHANG_SECRET_KEY" in done.output
