"""The ledger commands, the archive and its retention, family support, and what filled-in
values become on return (the declarations)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

import pytest
from test_ledgers import MARCH, A, ledger_village  # noqa: F401  (the fixture)

from taizhang import clock
from taizhang.audit.models import AuditEntry
from taizhang.errors import UserError
from taizhang.ledgers import archive
from taizhang.ledgers.build import build
from taizhang.ledgers.declarations import LEDGERS
from taizhang.ledgers.models import LedgerFile
from taizhang.ledgers.rowkeys import parse_key

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.usefixtures("ledger_village")
class TestLedgerCommand:
    def test_it_writes_archives_and_audits_the_printing(self, taizhang, data_dir, tmp_path):
        out = tmp_path / "checkup.pdf"
        result = taizhang("ledger", "checkup", "--village", A, "--month", MARCH, "-o", out)
        assert result.exit_code == 0, result.output
        content = out.read_bytes()
        assert content.startswith(b"%PDF")
        (record,) = LedgerFile.objects.all()
        # The seven women due a check-up in March (test_ledgers).
        assert (record.kind, record.village, record.month, record.format, record.rows) == (
            "checkup",
            A,
            202603,
            "pdf",
            7,
        )
        assert (record.direction, record.state, record.template_version) == (
            "generated",
            "kept",
            "2026.1",
        )
        assert record.sha256 == hashlib.sha256(content).hexdigest()
        assert record.size == len(content)
        # Kept encrypted (mode 600), read back as made.
        assert archive.path_of(record).read_bytes().startswith(archive.MAGIC)
        assert archive.read(record) == content
        assert archive.path_of(record).is_relative_to(data_dir / "archive" / "202603" / A)
        assert record.created_by.username == "taizhang"
        # Printing decrypts ID and phone numbers: the audit trail names the file and the
        # persons printed.
        (entry,) = AuditEntry.objects.filter(action="ledger_print")
        women = sorted(r.subject_id for r in build("checkup", A, MARCH).rows)
        assert (entry.object_type, entry.object_id, entry.org_code) == (
            "ledger_file",
            str(record.pk),
            A,
        )
        assert entry.detail["persons"] == women
        assert entry.detail["sha256"] == record.sha256

    @pytest.mark.parametrize(
        "args, status, message",
        [
            (
                ("nothing", "--village", A, "--month", MARCH),
                2,
                "nothing is not a ledger: use one of",
            ),
            (
                ("births", "--village", "410325100299", "--month", MARCH),
                1,
                "410325100299 is not in",
            ),
            (("births", "--village", "410325100", "--month", MARCH), 1, "is a township"),
            (("births", "--village", A, "--month", "2026-13"), 1, "The month:"),
            (("births", "--village", A, "--month", "2026Q1"), 1, "2026Q1 is not a month"),
            (("births", "--village", A, "--month", "209901"), 1, "too far ahead"),
            (("births", "--village", A, "--month", MARCH, "--format", "doc"), 2, "the formats are"),
        ],
    )
    def test_it_refuses_bad_input_with_a_sentence_and_writes_nothing(
        self, taizhang, data_dir, tmp_path, args, status, message
    ):
        out = tmp_path / "out.pdf"
        result = taizhang("ledger", *args, "-o", out)
        assert result.exit_code == status
        assert message in result.stderr
        assert "Traceback" not in result.output
        assert not out.exists()
        assert not LedgerFile.objects.exists()

    def test_a_file_that_cannot_be_written_is_not_archived(self, taizhang, data_dir, tmp_path):
        (tmp_path / "taken").write_text("a file, not a folder")
        out = tmp_path / "taken" / "checkup.pdf"
        result = taizhang("ledger", "checkup", "--village", A, "--month", MARCH, "-o", out)
        assert result.exit_code == 1
        assert "cannot be written" in result.stderr
        assert not LedgerFile.objects.exists()
        assert not AuditEntry.objects.filter(action="ledger_print").exists()

    def test_it_makes_every_ledger_of_a_township(self, taizhang, data_dir, tmp_path):
        out = tmp_path / "out"
        result = taizhang(
            "ledgers", "--township", "410325100", "--month", MARCH, "--county", "410325",
            "-o", out, "--format", "pdf,xlsx", "--jobs", "1",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        # Two villages × eleven ledgers × two formats; plain progress lines off a terminal.
        assert "2 villages, 44 files written" in result.output
        assert f"[1/2] {A}: 22 files" in result.output
        assert sorted(p.name for p in (out / A).iterdir())[:2] == [
            f"benefits-{A}-{MARCH}.pdf",
            f"benefits-{A}-{MARCH}.xlsx",
        ]
        assert LedgerFile.objects.count() == 44
        # Each file written is the one archived.
        record = LedgerFile.objects.get(kind="migrants", village="410325100202", format="xlsx")
        written = (out / "410325100202" / f"migrants-410325100202-{MARCH}.xlsx").read_bytes()
        assert hashlib.sha256(written).hexdigest() == record.sha256
        assert record.rows == 1  # 朱伟 leaving for A
        assert AuditEntry.objects.filter(action="ledger_print").count() == 44

    def test_it_makes_every_ledger_of_the_whole_county(self, taizhang, data_dir, tmp_path):
        out = tmp_path / "county"
        result = taizhang(
            "ledgers", "--county", "410325", "--month", MARCH, "-o", out,
            "--format", "csv", "--jobs", "1",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        # The county's two villages (both in 城关镇) × eleven ledgers as CSV.
        assert "2 villages, 22 files written" in result.output
        assert sorted(p.name for p in out.iterdir()) == [A, "410325100202"]

    def test_it_asks_which_villages(self, taizhang, data_dir, tmp_path):
        result = taizhang("ledgers", "--month", MARCH, "-o", tmp_path / "out")
        assert result.exit_code == 2
        assert "--township CODE, or --county CODE" in result.stderr

    def test_it_refuses_a_township_outside_the_county(self, taizhang, data_dir, tmp_path):
        result = taizhang(
            "ledgers", "--township", "410325100", "--county", "410326", "--month", MARCH,
            "-o", tmp_path / "out",
        )  # fmt: skip
        assert result.exit_code == 1
        assert "is not in county 410326" in result.stderr


class TestPurge:
    def store(self, when: dt.datetime, kind="births") -> LedgerFile:
        return archive.store(
            b"%PDF-1.7 test",
            kind=kind,
            village=A,
            month=int(f"{when:%Y%m}"),
            file_format="pdf",
            rows=0,
            template_version="2026.1",
            created_at=when,
        )

    def test_a_dry_run_removes_nothing_and_apply_removes_only_expired_files(
        self, taizhang, data_dir
    ):
        # Retention 24 months: files stored before the same day 24 months ago go; one is
        # stored an hour before that day began, one at its first minute.

        today = clock.today()
        cutoff = archive.months_before(today, 24)
        old = self.store(
            dt.datetime.combine(cutoff, dt.time(0, 0), SHANGHAI) - dt.timedelta(hours=1)
        )
        kept = self.store(dt.datetime.combine(cutoff, dt.time(0, 0), SHANGHAI))
        result = taizhang("purge")
        assert result.exit_code == 0, result.output
        assert f"would remove {old.path}" in result.output
        assert kept.path not in result.output
        assert "Dry run: nothing removed" in result.output
        assert archive.path_of(old).exists() and archive.path_of(kept).exists()
        assert not AuditEntry.objects.filter(action="ledger_purge").exists()

        result = taizhang("purge", "--apply")
        assert result.exit_code == 0, result.output
        assert f"removed {old.path}" in result.output
        assert not archive.path_of(old).exists()
        assert archive.path_of(kept).exists()
        old.refresh_from_db()
        kept.refresh_from_db()
        assert (old.state, kept.state) == ("purged", "kept")
        assert old.purged_at is not None
        (entry,) = AuditEntry.objects.filter(action="ledger_purge")
        assert entry.detail["files"] == [old.pk]
        assert entry.detail["retention_months"] == 24
        assert entry.user.username == "taizhang"
        # Purged records stay; a second purge finds nothing.
        assert LedgerFile.objects.count() == 2
        assert "0 files" in taizhang("purge", "--apply").output

    def test_the_retention_is_configurable(self, taizhang, data_dir, monkeypatch):
        month_ago = clock.now().astimezone(SHANGHAI) - dt.timedelta(days=40)
        record = self.store(month_ago)
        assert "0 files" in taizhang("purge").output
        monkeypatch.setenv("TAIZHANG_RETENTION_MONTHS", "1")
        result = taizhang("purge")
        assert f"would remove {record.path}" in result.output
        assert "1-month retention" in result.output
        monkeypatch.setenv("TAIZHANG_RETENTION_MONTHS", "two years")
        result = taizhang("purge")
        assert result.exit_code == 1
        assert "TAIZHANG_RETENTION_MONTHS must be a whole number of months" in result.stderr

    @pytest.mark.usefixtures("ledger_village")
    def test_nothing_in_the_register_is_purged(self, taizhang, data_dir):
        from taizhang.register.models import Event, Person

        before = (Person.objects.count(), Event.objects.count())
        self.store(dt.datetime(2020, 1, 1, tzinfo=SHANGHAI))
        assert taizhang("purge", "--apply").exit_code == 0
        assert (Person.objects.count(), Event.objects.count()) == before


@pytest.mark.usefixtures("ledger_village")
class TestReturns:
    """What a filled row becomes, as the declarations say (nothing is written here)."""

    def row(self, kind: str, task: str):
        doc = build(kind, A, MARCH)
        row = next(r for r in doc.rows if r.task == task)
        return doc.ledger, parse_key(row.key)

    def test_a_change_of_method_stops_the_old_one_then_starts_the_new(self):
        ledger, key = self.row("contraception", "MWRA")  # 王芳, IUD since 2026-01-30
        filled = ledger.parse_row(
            {"date": "2026-03-28", "method_stopped": "宫内节育器", "stop_reason": "更换方法",
             "method_started": "implant"},
            today=dt.date(2026, 4, 1),
        )  # fmt: skip
        effects = ledger.effects(key, filled)
        assert [(e.target, e.kind) for e in effects] == [
            ("event", "method_stop"),
            ("event", "method_start"),
        ]
        # As an events file would hold them; the stop reason in the register's words.
        assert effects[0].as_text() == {"date": "2026-03-28", "method": "iud", "reason": "更换方法"}
        assert effects[1].as_text() == {"date": "2026-03-28", "method": "implant"}
        assert effects[0].subject_id == key.subject_id

    def test_an_iud_check_becomes_a_follow_up_and_a_screening_keeps_its_referral(self):
        ledger, key = self.row("contraception", "IUD30-260130")
        filled = ledger.parse_row(
            {"date": "2026-03-02", "findings": "正常"}, today=dt.date(2026, 4, 1)
        )
        assert [(e.kind, e.as_text()) for e in ledger.effects(key, filled)] == [
            ("followup", {"date": "2026-03-02", "findings": "正常"})
        ]
        ledger, key = self.row("screening", "DUE")
        filled = ledger.parse_row(
            {"date": dt.datetime(2026, 3, 9), "findings": "宫颈炎", "referral": "县妇幼保健院"},
            today=dt.date(2026, 4, 1),
        )
        (effect,) = ledger.effects(key, filled)
        assert (effect.kind, effect.as_text()) == (
            "screening",
            {"date": "2026-03-09", "findings": "宫颈炎;转诊:县妇幼保健院"},
        )

    def test_each_other_target(self):
        today = dt.date(2026, 4, 1)
        cases = [
            ("benefits", "PAY-202603", {"paid_date": "2026-03-30", "amount_paid": "80.00",
             "channel": "银行"}, ("benefits.payment", {"status": "paid", "paid_date": "2026-03-30",
             "channel": "bank", "amount": "80"})),
            ("cases", "RETURN", {"date": "2026-03-31", "satisfaction": "满意"},
             ("cases.return_visit", {"on": "2026-03-31", "satisfaction": "satisfied", "note": ""})),
            ("reports", "BIRTHS", {"value": "2", "submitted_by": "李村医", "date": "2026-04-01"},
             ("reports.figure", {"org": A, "period": "202603", "item": "births", "value": "2",
              "submitted_by": "李村医", "submitted_at": "2026-04-01"})),
            ("education", "LACTATION", {"date": "2026-03-05", "stage": "哺乳期"},
             ("event", {"date": "2026-03-05", "stage": "lactation"})),
            ("births", "PREG", {"date": "2026-03-30", "outcome": "miscarriage"},
             ("event", {"date": "2026-03-30", "outcome": "miscarriage"})),
        ]  # fmt: skip
        for kind, task, values, (target, fields) in cases:
            ledger, key = self.row(kind, task)
            (effect,) = ledger.effects(key, ledger.parse_row(values, today=today))
            assert (effect.target, effect.as_text()) == (target, fields), kind
        # A row with nothing filled asks for nothing; a return visit only on its own rows.
        ledger, key = self.row("cases", "OPEN")
        assert ledger.effects(key, ledger.parse_row({}, today=today)) == []
        filled = ledger.parse_row({"date": "2026-03-31", "satisfaction": "满意"}, today=today)
        assert ledger.effects(key, filled) == []

    @pytest.mark.parametrize(
        "values, message",
        [
            ({"outcome": "unplanned"}, "妊娠结局 (outcome): unplanned is not one of the answers"),
            ({"date": "2026-04-31"}, "日期 (date): 2026-04-31 is not a real date"),
            ({"date": "2026-05-01"}, "日期 (date): 2026-05-01 is in the future"),
        ],
    )
    def test_a_wrong_filled_value_is_refused_with_its_column(self, values, message):
        ledger = LEDGERS["births"]
        with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
            ledger.parse_row(values, today=dt.date(2026, 4, 1))

    def test_a_number_out_of_range_is_refused(self):
        with pytest.raises(UserError, match=r"上报数 \(value\): -1 is outside 0–1000000"):
            LEDGERS["reports"].parse_row({"value": "-1"}, today=dt.date(2026, 4, 1))


@pytest.mark.usefixtures("ledger_village")
class TestFamilySupport:
    def test_it_refuses_what_did_not_happen_as_asked(self):
        from taizhang.ledgers import actions
        from taizhang.register.models import Household, Person

        today = dt.date(2026, 4, 1)
        household = Household.objects.get(number="A-002")
        with pytest.raises(UserError, match="on or after the household asked for it"):
            actions.start_support(
                household, kind="credit", applied_on=dt.date(2026, 3, 1),
                start=dt.date(2026, 2, 1), user=None, today=today,
            )  # fmt: skip
        with pytest.raises(UserError, match="is not a member of household A-002"):
            actions.start_support(
                household, kind="aid", applied_on=dt.date(2026, 3, 1), start=dt.date(2026, 3, 1),
                person=Person.objects.get(name="张丽"), user=None, today=today,
            )  # fmt: skip
        with pytest.raises(UserError, match="loans is not a kind of support"):
            actions.start_support(
                household, kind="loans", applied_on=dt.date(2026, 3, 1),
                start=dt.date(2026, 3, 1), user=None, today=today,
            )  # fmt: skip
        support = actions.start_support(
            household, kind="training", applied_on=dt.date(2026, 3, 1),
            start=dt.date(2026, 3, 2), user=None, today=today,
        )  # fmt: skip
        actions.record_support_result(
            support,
            on=dt.date(2026, 3, 30),
            result="ended",
            note="外出务工",
            user=None,
            today=today,
        )
        with pytest.raises(UserError, match="already ended on 2026-03-30"):
            actions.record_support_result(
                support, on=dt.date(2026, 3, 31), result="completed", user=None, today=today
            )
        actions_logged = AuditEntry.objects.filter(object_type="family_support")
        assert list(actions_logged.order_by("id").values_list("action", flat=True)) == [
            "family_support_start",
            "family_support_result",
        ]


@pytest.mark.usefixtures("ledger_village")
class TestEncryptionAtRest:
    """The archive keeps every file encrypted with the installation's key (mode 600); it
    gives a file back as it was made; files stored in clear before still read."""

    # 王芳's ID and phone numbers, printed in full on the contraception ledger of A.
    SECRETS = (b"410325199005050041", b"13800000002")

    def make(self, taizhang, tmp_path, fmt="csv"):
        out = tmp_path / f"contraception.{fmt}"
        result = taizhang(
            "ledger", "contraception", "--village", A, "--month", MARCH, "--format", fmt, "-o", out
        )
        assert result.exit_code == 0, result.output
        return LedgerFile.objects.get(format=fmt), out.read_bytes()

    def test_the_file_on_disk_holds_no_number_in_clear(self, taizhang, data_dir, tmp_path):
        import stat

        record, content = self.make(taizhang, tmp_path)
        assert all(s in content for s in self.SECRETS)  # the CSV as printed
        on_disk = archive.path_of(record).read_bytes()
        assert on_disk.startswith(archive.MAGIC)
        assert not any(s in on_disk for s in self.SECRETS)
        assert "王芳".encode() not in on_disk
        assert stat.S_IMODE(archive.path_of(record).stat().st_mode) == 0o600
        for folder in archive.path_of(record).parents:
            if folder == data_dir:
                break
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        # The record's hash and size are those of the file as made.
        assert (record.sha256, record.size) == (hashlib.sha256(content).hexdigest(), len(content))
        assert archive.read(record) == content

    def test_archived_gives_the_file_back_and_audits_it(self, taizhang, data_dir, tmp_path):
        record, content = self.make(taizhang, tmp_path, "xlsx")
        for reference in (str(record.pk), record.path, str(archive.path_of(record))):
            out = tmp_path / "copy.xlsx"
            result = taizhang("archived", reference, "-o", out)
            assert result.exit_code == 0, result.output
            assert out.read_bytes() == content
        entries = AuditEntry.objects.filter(action="ledger_archive_read")
        assert entries.count() == 3
        assert (entries[0].object_id, entries[0].org_code) == (str(record.pk), A)
        result = taizhang("archived", "202603/nothing.pdf", "-o", tmp_path / "x")
        assert result.exit_code == 1
        assert "is not a file of the ledger archive" in result.stderr

    def test_an_altered_file_or_another_key_is_refused(self, taizhang, data_dir, tmp_path):
        from taizhang.lib import crypto

        record, _content = self.make(taizhang, tmp_path)
        # (A command under another key stops before reading anything: taizhang.operations.)
        other = bytes.fromhex("1e" * 32)
        with crypto.using_key(other), pytest.raises(UserError, match="cannot be decrypted") as no:
            archive.read(record)
        assert no.value.status == 2
        path = archive.path_of(record)
        raw = bytearray(path.read_bytes())
        raw[-1] ^= 1
        path.write_bytes(bytes(raw))
        with pytest.raises(UserError, match="cannot be decrypted"):
            archive.read(record)

    def test_a_file_stored_in_clear_before_is_read_and_sealed(self, taizhang, data_dir, tmp_path):
        record, content = self.make(taizhang, tmp_path)
        path = archive.path_of(record)
        path.write_bytes(content)  # as an earlier version kept it
        assert archive.read(record) == content
        assert path.read_bytes().startswith(archive.MAGIC)  # sealed on the way
        assert archive.read(record) == content
        path.write_bytes(content + b"x")  # altered in clear
        with pytest.raises(UserError, match="has been altered"):
            archive.read(record)

    def test_the_migration_seals_every_clear_file_once(self, taizhang, data_dir, tmp_path):
        import importlib

        from django.apps import apps

        migration = importlib.import_module("taizhang.ledgers.migrations.0003_seal_archive")
        csv_record, csv_content = self.make(taizhang, tmp_path)
        xlsx_record, xlsx_content = self.make(taizhang, tmp_path, "xlsx")
        for record, content in ((csv_record, csv_content), (xlsx_record, xlsx_content)):
            archive.path_of(record).write_bytes(content)
            archive.path_of(record).chmod(0o644)
        migration.seal_archive(apps, None)
        for record, content in ((csv_record, csv_content), (xlsx_record, xlsx_content)):
            on_disk = archive.path_of(record).read_bytes()
            assert on_disk.startswith(archive.MAGIC)
            assert not any(s in on_disk for s in self.SECRETS)
            assert archive.path_of(record).stat().st_mode & 0o777 == 0o600
            assert archive.read(record) == content
        before = archive.path_of(csv_record).read_bytes()
        migration.seal_archive(apps, None)  # sealed files are left as they are
        assert archive.path_of(csv_record).read_bytes() == before

    def test_nothing_is_sealed_under_a_key_that_is_not_the_registers(
        self, taizhang, data_dir, tmp_path, monkeypatch
    ):
        from taizhang.lib import crypto
        from taizhang.register.models import Person

        record, content = self.make(taizhang, tmp_path)
        archive.path_of(record).write_bytes(content)
        cipher = Person.objects.values_list("id_cipher", flat=True).order_by("pk").first()
        with crypto.using_key(bytes.fromhex("1e" * 32)):
            assert archive.seal_clear([record], register_cipher=cipher) == 0
            assert archive.read(record) == content  # read in clear, and left so
            assert archive.path_of(record).read_bytes() == content
        # Without a key configured (no variable, no secret.key), none is made.
        with monkeypatch.context() as m:
            m.delenv("TAIZHANG_SECRET_KEY")
            assert archive.seal_clear([record], register_cipher=cipher) == 0
            assert not (data_dir / "secret.key").exists()
        assert archive.seal_clear([record], register_cipher=cipher) == 1
        assert archive.read(record) == content

    def test_purge_removes_sealed_files(self, taizhang, data_dir, tmp_path, monkeypatch):
        record, _content = self.make(taizhang, tmp_path)
        monkeypatch.setenv("TAIZHANG_RETENTION_MONTHS", "1")
        record.created_at = clock.now() - dt.timedelta(days=70)
        record.save()
        assert taizhang("purge", "--apply").exit_code == 0
        assert not archive.path_of(record).exists()
        record.refresh_from_db()
        with pytest.raises(UserError, match="was purged on"):
            archive.read(record)
