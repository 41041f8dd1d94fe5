"""Row keys: what identifies one row of a ledger, printed beside it and held by its QR code.

A key names the ledger kind, the village, the month, the task and the subject of the row,
and ends with a keyed MAC so that a key typed wrong or altered is detected::

    TZL1.FUP.410325100201.202611.IUD30-20261115.P1234.K7QX2M9ABD
    │    │   │            │      │              │     └ MAC: HMAC-SHA256, 10 base32 chars
    │    │   │            │      │              └ subject: P person, E enrolment,
    │    │   │            │      │                C case, H household, O org unit
    │    │   │            │      └ task: what is to be done (A-Z, 0-9, '-')
    │    │   │            └ month YYYYMM
    │    │   └ village code (12 digits)
    │    └ ledger kind (KIND_CODES)
    └ format version

Every character is in the QR code's alphanumeric set (digits, capitals, '.', '-'), so
the code stays small. A key never holds an ID number or a name: only register ids.

The MAC key is derived from the installation's master key (``taizhang.lib.crypto``) with
HKDF-SHA256 under its own label, so it is independent of the encryption and blind-index
keys; a key made by another installation does not verify here.

``make_key(...)`` builds the text; ``parse_key(text)`` returns a :class:`RowKey` or raises
``UserError`` with a sentence saying what is wrong.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from taizhang.errors import UserError
from taizhang.lib import crypto

VERSION = "TZL1"
MAC_CHARS = 10  # 50 bits of the HMAC: a guessed key passes once in 10^15 tries

# Ledger kind (docs/ledgers.md) → the code in keys.
KIND_CODES: dict[str, str] = {
    "contraception": "CON",
    "checkup": "CHK",
    "births": "BIR",
    "migrants": "MIG",
    "family": "FAM",
    "reports": "REP",
    "education": "EDU",
    "screening": "SCR",
    "followup": "FUP",
    "benefits": "BEN",
    "cases": "CAS",
}
KINDS_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}

# Subject letter → what the number after it identifies.
SUBJECTS: dict[str, str] = {
    "P": "person",
    "E": "enrolment",
    "C": "case",
    "H": "household",
    "O": "orgunit",
}
SUBJECT_LETTERS = {name: letter for letter, name in SUBJECTS.items()}

_TASK = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}")
_SUBJECT = re.compile(r"([PECHO])([0-9]{1,12})")


@dataclass(frozen=True)
class RowKey:
    """What a row key says. ``subject`` is "person", "enrolment", "case", "household" or
    "orgunit" and ``subject_id`` its id (for "orgunit", the code as a number)."""

    kind: str
    village: str
    month: int  # YYYYMM
    task: str
    subject: str
    subject_id: int

    @property
    def text(self) -> str:
        return make_key(
            self.kind, self.village, self.month, self.task, self.subject, self.subject_id
        )


@functools.cache
def _mac_key(master: bytes) -> bytes:
    # Cached per master key: a changed key (tests) derives a new one.
    return crypto._subkey(master, b"taizhang-ledger-row-key")


def _mac(body: str) -> str:
    digest = hmac.digest(_mac_key(crypto._master_key()), body.encode("ascii"), hashlib.sha256)
    return base64.b32encode(digest).decode("ascii")[:MAC_CHARS]


def _body(kind: str, village: str, month: int, task: str, subject: str, subject_id: int) -> str:
    return ".".join(
        (
            VERSION,
            KIND_CODES[kind],
            village,
            f"{month:06d}",
            task,
            f"{SUBJECT_LETTERS[subject]}{subject_id}",
        )
    )


def make_key(kind: str, village: str, month: int, task: str, subject: str, subject_id: int) -> str:
    """The key of a row. ``task`` is upper-case letters, digits and '-'."""
    if kind not in KIND_CODES:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if not _TASK.fullmatch(task):
        raise ValueError(f"a task is 1-40 capitals, digits and '-', not {task!r}")
    if subject not in SUBJECT_LETTERS:
        raise ValueError(f"unknown subject {subject!r}")
    body = _body(kind, village, month, task, subject, subject_id)
    return f"{body}.{_mac(body)}"


def parse_key(text: str) -> RowKey:
    """The row key ``text`` (spaces around it and lower case are forgiven), or a
    ``UserError`` saying why it is not one: malformed, or altered (the MAC does not match)."""
    raw = str(text or "").strip()
    if not raw:
        raise UserError(_("The row key is empty."))
    value = raw.upper()
    parts = value.split(".")
    if len(parts) != 7 or parts[0] != VERSION:
        raise UserError(
            _("%(key)s is not a ledger row key (it starts %(version)s. and has 7 parts).")
            % {"key": raw, "version": VERSION}
        )
    _version, code, village, month, task, subject, mac = parts
    kind = KINDS_BY_CODE.get(code)
    month_ok = month.isdigit() and len(month) == 6 and 1 <= int(month[4:]) <= 12
    match = _SUBJECT.fullmatch(subject)
    if (
        kind is None
        or not (village.isdigit() and len(village) == 12)
        or not month_ok
        or not _TASK.fullmatch(task)
        or match is None
    ):
        raise UserError(_("%(key)s is not a well-formed ledger row key.") % {"key": raw})
    key = RowKey(kind, village, int(month), task, SUBJECTS[match[1]], int(match[2]))
    expected = _mac(_body(kind, village, int(month), task, key.subject, key.subject_id))
    if not hmac.compare_digest(expected, mac):
        raise UserError(
            _(
                "The row key %(key)s does not check: it was altered or mistyped, "
                "or it comes from another installation."
            )
            % {"key": raw}
        )
    return key
