"""A file of accounts to make (``taizhang users import``): the same rules as every import.

A ``.csv`` file (UTF-8 with or without a byte-order mark, or GB18030) with the columns
``username`` (用户名), ``role`` (角色: county, township or village), ``org`` (单位代码) and
``password`` (密码). Every row is checked as the users page checks one account; if any
row is wrong nothing is written and each wrong row is reported as ``row N: column:
reason``. A row naming an account that already exists with the same role and org unit
is unchanged (its password is left alone: ``taizhang users reset-password`` changes it),
so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from taizhang.accounts import actions
from taizhang.imports.columns import normalize_label
from taizhang.imports.service import Errors, RowError
from taizhang.lib import textfiles
from taizhang.lib.sheets import SheetError

COLUMNS = {
    "username": ("username", "用户名", "账号", "user"),
    "role": ("role", "角色"),
    "org": ("org", "单位代码", "org_unit", "区划代码"),
    "password": ("password", "密码"),
}
_LOOKUP = {normalize_label(text): key for key, texts in COLUMNS.items() for text in texts}


@dataclass
class UsersImport:
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "unchanged": 0})
    errors: list[RowError] = field(default_factory=list)


MAX_BYTES = 5 * 1024 * 1024


class _FileProblem(Exception):
    pass


def _records(path: Path) -> list[list[str]]:
    if path.suffix.lower() != ".csv":
        raise _FileProblem(f"unknown file type {path.suffix or '(no extension)'}: save it as .csv")
    if path.stat().st_size > MAX_BYTES:
        raise _FileProblem(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB: it is not a list of accounts"
        )
    try:
        text = textfiles.decode(path.read_bytes())
    except SheetError as e:
        raise _FileProblem(str(e)) from None
    return list(csv.reader(text.splitlines()))


def _header(record: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, text in enumerate(record):
        key = _LOOKUP.get(normalize_label(text))
        if key is None:
            continue
        if key in index:
            raise _FileProblem(f"the column {key} appears twice; keep one")
        index[key] = i
    missing = [key for key in COLUMNS if key not in index]
    if missing:
        names = ", ".join(f"{COLUMNS[k][1]} ({k})" for k in missing)
        raise _FileProblem(f"missing column{'s' if len(missing) > 1 else ''} {names}")
    return index


def import_users(path, *, acting: actions.Acting, dry_run: bool = False) -> UsersImport:
    """Check every row, then make every new account in one transaction — or none."""
    path = Path(path)
    result = UsersImport()
    try:
        records = _records(path)
        start = next((i for i, r in enumerate(records) if any(v.strip() for v in r)), None)
        if start is None:
            raise _FileProblem("the file has no header row")
        index = _header(records[start])
    except _FileProblem as e:
        result.errors = [RowError(0, "", str(e))]
        return result
    except OSError as e:
        result.errors = [RowError(0, "", f"cannot read the file: {e.strerror}")]
        return result

    User = get_user_model()
    errors = Errors()
    to_make: list[tuple[str, str, str, str]] = []
    seen: dict[str, int] = {}  # folded name → the row that has it
    for n, record in enumerate(records[start + 1 :], 1):
        if not any(v.strip() for v in record):
            continue
        result.rows += 1

        def get(key, record=record):
            i = index[key]
            return record[i] if i < len(record) else ""

        name = actions.normalise_username(get("username"))
        folded = actions.fold(name)
        if name and folded in seen:
            errors.add(n, "username", f"{name} is already in row {seen[folded]} of this file")
            continue
        seen[folded] = n
        try:
            role = actions.role_from_name(get("role"))
        except actions.AccountError as e:
            errors.add(n, "role", e.message)
            role = None
        org = None
        if role is not None:
            try:
                org = actions.check_org(role, get("org"))
            except actions.AccountError as e:
                errors.add(n, "org", e.message)
        existing = User._default_manager.filter(username=name).select_related("profile").first()
        if existing is not None:
            profile = getattr(existing, "profile", None)
            if role is not None and org is not None:
                if profile and profile.role == role and profile.org_unit_id == org.code:
                    result.counts["unchanged"] += 1
                else:
                    errors.add(
                        n,
                        "username",
                        f"there is already an account named {name} with another role or "
                        "org unit: change it on the users page",
                    )
            continue
        try:
            name = actions.check_username(get("username"))
        except actions.AccountError as e:
            errors.add(n, "username", e.message)
            continue
        try:
            actions.check_password(get("password"), User(username=name))
        except actions.AccountError as e:
            errors.add(n, "password", e.message)
        if role is not None and org is not None:
            to_make.append((name, role, org.code, get("password")))

    result.errors = errors.sorted()
    if result.errors or dry_run:
        if dry_run and not result.errors:
            result.counts["created"] = len(to_make)
        return result
    with transaction.atomic():
        for name, role, org, password in to_make:
            actions.create_user(name, role, org, password, acting=acting, file=path.name)
    result.counts["created"] = len(to_make)
    return result
