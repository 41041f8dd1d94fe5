"""The ledger pages: a village's eleven ledgers with their status after printing and after
a return, the upload of a filled-in file, and the township's overview.

The register is the ledger village of ``test_ledgers`` (东街村 A and 西街村 B of 城关镇,
March 2026); alice is A's village worker (made by its fixture), tom the township's
statistician, ada the county administrator.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from helpers import make_user
from test_ledger_return import column
from test_ledgers import MARCH, A, B, ledger_village  # noqa: F401  (the fixture)

from taizhang.accounts.models import Role
from taizhang.audit.models import AuditEntry
from taizhang.ledgers.models import LedgerFile, ReturnedRow
from taizhang.ledgers.render import HEADER_ROW
from taizhang.register.models import Event, Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_village", "data_dir")]


@pytest.fixture
def users(django_user_model):
    from types import SimpleNamespace

    return SimpleNamespace(
        alice=django_user_model.objects.get(username="alice"),
        tom=make_user("tom", Role.TOWNSHIP_STATISTICIAN, "410325100"),
        ada=make_user("ada", Role.COUNTY_ADMIN, "410325"),
    )


def page(village=A, month=MARCH) -> str:
    return reverse("ledgers:village", args=[village, month])


def statuses(response) -> dict:
    """kind → (rows, pending, prints, rows returned) as the page shows them."""
    return {
        s.ledger.kind: (s.rows, s.pending, s.prints, s.rows_returned)
        for s in response.context["ledgers"]
    }


def filled(content: bytes, kind: str, rows: dict[int, dict]) -> io.BytesIO:
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    for n, values in rows.items():
        for key, value in values.items():
            sheet.cell(HEADER_ROW + n, column(kind, key)).value = value
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = f"{kind}-filled.xlsx"
    return out


def test_the_status_follows_printing_and_returning(client, users):
    client.force_login(users.alice)
    r = client.get(page())
    assert r.status_code == 200
    # The row counts of test_ledgers; nothing printed or returned yet.
    got = statuses(r)
    assert got["checkup"] == (7, 7, 0, 0)
    assert got["contraception"] == (11, 11, 0, 0)
    assert got["cases"] == (2, 2, 0, 0)
    assert len(got) == 11

    # Downloading is printing: archived under alice and audited with her address.
    r = client.get(reverse("ledgers:download", args=[A, MARCH, "checkup", "xlsx"]))
    assert r.status_code == 200
    assert r["Content-Disposition"] == f'attachment; filename="checkup-{A}-{MARCH}.xlsx"'
    content = r.content
    record = LedgerFile.objects.get()
    assert (record.kind, record.format, record.created_by, record.source) == (
        "checkup",
        "xlsx",
        users.alice,
        "127.0.0.1",
    )
    entry = AuditEntry.objects.get(action="ledger_print")
    assert (entry.user, entry.object_id) == (users.alice, str(record.pk))
    r = client.get(page())
    assert statuses(r)["checkup"] == (7, 7, 1, 0)
    assert 'data-printed="1"' in r.content.decode()

    # Rows 1 (王芳) and 2 (刘洋) come back filled: two of seven returned, five pending.
    upload = filled(content, "checkup", {1: {"date": dt.date(2026, 3, 25)},
                                         2: {"date": dt.date(2026, 3, 26)}})  # fmt: skip
    r = client.post(reverse("ledgers:return", args=[A, MARCH]), {"file": upload})
    assert r.status_code == 302 and r.url == page()
    r = client.get(page())
    assert statuses(r)["checkup"] == (7, 5, 1, 2)
    assert "applied 2, already returned 0, pending 5" in r.content.decode()
    returned = LedgerFile.objects.get(direction="returned")
    assert (returned.created_by, returned.answers) == (users.alice, record)
    assert Event.objects.filter(kind="checkup", date=dt.date(2026, 3, 25)).get().person == (
        Person.objects.get(name="王芳")
    )
    # The township sees it in its overview: A's check-up ledger printed and returned, B's
    # untouched.
    client.force_login(users.tom)
    r = client.get(reverse("ledgers:home") + f"?month={MARCH}")
    rows = {row.village.code: row for row in r.context["rows"]}
    assert list(rows) == [A, B]
    checkup = r.context["kinds"].index("checkup")
    cell = rows[A].cells[checkup]
    assert cell.printed == record.created_at and cell.returned == returned.created_at
    assert cell.rows_returned == 2
    assert (rows[A].printed, rows[A].returned, rows[B].printed) == (1, 1, 0)


def test_a_file_with_a_bad_row_is_shown_with_its_errors_and_records_nothing(client, users):
    client.force_login(users.alice)
    content = client.get(reverse("ledgers:download", args=[A, MARCH, "checkup", "xlsx"])).content
    upload = filled(content, "checkup", {1: {"date": dt.date(2026, 3, 25)},
                                         3: {"date": "2026-13-01"}})  # fmt: skip
    r = client.post(reverse("ledgers:return", args=[A, MARCH]), {"file": upload})
    assert r.status_code == 400
    assert r.context["result"].errors[0].row == 3
    assert "row 3: date: 2026-13-01 is not a real date" in r.content.decode()
    assert not ReturnedRow.objects.exists()
    assert not Event.objects.filter(kind="checkup", date=dt.date(2026, 3, 25)).exists()


def test_a_file_of_another_village_or_month_is_refused_on_this_page(client, users):
    client.force_login(users.tom)
    content = client.get(reverse("ledgers:download", args=[A, MARCH, "reports", "xlsx"])).content
    upload = filled(content, "reports", {1: {"value": 1}})
    r = client.post(reverse("ledgers:return", args=[B, MARCH]), {"file": upload})
    assert r.status_code == 400
    assert f"reports-filled.xlsx is the ledger of village {A}, not of village {B}." in (
        r.content.decode()
    )
    upload.seek(0)
    r = client.post(reverse("ledgers:return", args=[A, "202602"]), {"file": upload})
    assert r.status_code == 400
    assert "is the ledger of 202603, not of 202602." in r.content.decode()
    assert not ReturnedRow.objects.exists()


def test_a_dry_run_from_the_page_records_nothing(client, users):
    client.force_login(users.alice)
    content = client.get(reverse("ledgers:download", args=[A, MARCH, "checkup", "xlsx"])).content
    upload = filled(content, "checkup", {1: {"date": dt.date(2026, 3, 25)}})
    r = client.post(
        reverse("ledgers:return", args=[A, MARCH]), {"file": upload, "dry_run": "on"}, follow=True
    )
    assert "checked, nothing recorded: applied 1" in r.content.decode()
    assert not ReturnedRow.objects.exists()
    assert statuses(r)["checkup"] == (7, 7, 1, 0)


def test_the_home_page_opens_the_chosen_village_and_month(client, users):
    client.force_login(users.ada)
    r = client.get(reverse("ledgers:home") + f"?village={B}&month={MARCH}")
    assert r.status_code == 302 and r.url == page(B)
    r = client.get(reverse("ledgers:home") + "?month=2026-13")
    assert r.status_code == 400
    assert "The month:" in r.content.decode()
    r = client.get(page(A, "209901"))
    assert r.status_code == 400
    assert "too far ahead" in r.content.decode()
