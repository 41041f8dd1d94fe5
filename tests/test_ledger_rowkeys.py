"""Row keys: what they say, and that a changed or foreign key is refused."""

from __future__ import annotations

import pytest

from taizhang.errors import UserError
from taizhang.ledgers.rowkeys import RowKey, make_key, parse_key
from taizhang.lib import crypto

KEY_ARGS = ("followup", "410325100201", 202603, "PP7-260324", "person", 10)


def test_it_reads_back_what_the_key_was_made_from():
    text = make_key(*KEY_ARGS)
    # version, kind code, village, month, task, subject, then the 10-character MAC
    assert text.startswith("TZL1.FUP.410325100201.202603.PP7-260324.P10.")
    assert len(text.rsplit(".", 1)[1]) == 10
    assert parse_key(text) == RowKey(*KEY_ARGS)
    assert parse_key(text).text == text


def test_it_forgives_lower_case_and_spaces_around_a_typed_key():
    text = make_key("cases", "410325100201", 202603, "RETURN", "case", 4)
    assert parse_key(f"  {text.lower()}\n") == RowKey(
        "cases", "410325100201", 202603, "RETURN", "case", 4
    )


def test_it_holds_only_register_ids_and_qr_alphanumeric_characters():
    text = make_key("benefits", "410325100201", 202603, "PAY-202603", "enrolment", 123456)
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-")
    assert "E123456" in text


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace(".P10.", ".P11."),  # another person
        lambda t: t.replace(".202603.", ".202604."),  # another month
        lambda t: t.replace(".FUP.", ".CHK."),  # another ledger
        lambda t: t.replace("PP7-", "PP42-"),  # another task
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a MAC character
    ],
)
def test_it_detects_a_tampered_key(change):
    text = make_key(*KEY_ARGS)
    altered = change(text)
    assert altered != text
    with pytest.raises(UserError, match="does not check"):
        parse_key(altered)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("hello", "is not a ledger row key"),
        ("TZL1.XXX.410325100201.202603.DUE.P1.AAAAAAAAAA", "not a well-formed"),
        ("TZL1.CHK.4103251002.202603.DUE.P1.AAAAAAAAAA", "not a well-formed"),
        ("TZL1.CHK.410325100201.202613.DUE.P1.AAAAAAAAAA", "not a well-formed"),
        ("TZL1.CHK.410325100201.202603.DUE.Z1.AAAAAAAAAA", "not a well-formed"),
    ],
)
def test_it_says_what_is_wrong_with_a_malformed_key(text, message):
    with pytest.raises(UserError, match=message):
        parse_key(text)


def test_a_key_made_by_another_installation_does_not_check(monkeypatch):
    text = make_key(*KEY_ARGS)
    monkeypatch.setenv("TAIZHANG_SECRET_KEY", "1e" * 32)
    crypto.reset_keys()
    try:
        with pytest.raises(UserError, match="another installation"):
            parse_key(text)
        assert parse_key(make_key(*KEY_ARGS)).subject_id == 10  # its own keys do
    finally:
        monkeypatch.undo()
        crypto.reset_keys()
    assert parse_key(text).subject_id == 10
