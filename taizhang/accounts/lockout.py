"""Lock-out after repeated failed logins.

The lock is keyed on what a login would reach, not on the text typed: the name goes
through the login form's own normalisation (strip, NFKC — so ``'victim '``, ``'\\tvictim'``
and ``'ｖｉｃｔｉｍ'`` are all ``victim``), then the account is looked up the way
Django's ``authenticate`` looks it up; an existing account is keyed by its id
(``user:17``), a name that is nobody's by the name case-folded (``name:eve``).

Each password check is *reserved* before it is made, in one short transaction that
holds the key's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write
transactions are serialised, ``transaction_mode`` IMMEDIATE). A reservation counts as a
failure until the password proves right, and the reservation that reaches
``TAIZHANG_LOGIN_MAX_FAILURES`` sets the lock at once. So however many wrong guesses
arrive at the same moment, at most that many passwords are checked; the rest are
refused without a check. A right password clears the account's count and lock; a count
with no failure for a day is forgotten (the lock time, not this, is what limits guessing).

Optionally (``TAIZHANG_LOGIN_MAX_FAILURES_PER_ADDRESS``, 0 = off) the source address is
counted too: that many failures from one address within ``TAIZHANG_LOGIN_LOCK_MINUTES``
lock the address for as long. Off by default because behind a reverse proxy every
request comes from the proxy's address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UsernameField
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from taizhang import clock
from taizhang.accounts.models import LoginLock

NAME_LENGTH = 150  # Django's username length; the login form refuses longer names
FORGET_AFTER = dt.timedelta(days=1)


def login_name(typed: str) -> str:
    """The name as the login form hands it to ``authenticate`` (stripped, NFKC)."""
    try:
        return UsernameField().to_python(typed) or ""
    except ValidationError:
        return typed


@dataclass
class Attempt:
    """One login attempt's reservation: the keys it counts against."""

    keys: list[str]
    user: object = None  # the account the name reaches, if any
    refused: bool = False  # locked: no password may be checked
    locked_by_this: list[str] = field(default_factory=list)  # keys this reservation locked
    locked_until: dt.datetime | None = None


def _limit(key: str) -> int:
    if key.startswith("address:"):
        return int(getattr(settings, "TAIZHANG_LOGIN_MAX_FAILURES_PER_ADDRESS", 0) or 0)
    return int(settings.TAIZHANG_LOGIN_MAX_FAILURES)


def _lock_time() -> dt.timedelta:
    return dt.timedelta(minutes=settings.TAIZHANG_LOGIN_LOCK_MINUTES)


def account_key(typed: str) -> tuple[str, object]:
    """The key a login with the name ``typed`` counts against, and the account it reaches."""
    name = login_name(typed)[:NAME_LENGTH]
    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: name}).first()
    if user is not None:
        return f"user:{user.pk}", user
    return f"name:{name.casefold()}", None


def keys_for(typed: str, address: str) -> tuple[list[str], object]:
    key, user = account_key(typed)
    keys = [key]
    if address and _limit("address:") > 0:
        keys.append(f"address:{address}"[:200])
    return keys, user


def _row(key: str) -> LoginLock:
    """The key's row, held until the transaction ends (created when missing)."""
    rows = LoginLock.objects.select_for_update()
    try:
        return rows.get(key=key)
    except LoginLock.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return LoginLock.objects.create(key=key)
    except IntegrityError:  # made at the same moment by another login
        return rows.get(key=key)


def begin(typed: str, address: str = "") -> Attempt:
    """Reserve one password check for a login as ``typed`` from ``address``, or refuse it
    (``refused``) while any of its keys is locked."""
    keys, user = keys_for(typed, address)
    attempt = Attempt(keys, user)
    now = clock.now()
    _forget_old(now)
    with transaction.atomic():
        rows = [_row(key) for key in sorted(keys)]  # one order: no deadlock between logins
        for row in rows:
            if row.locked_until and row.locked_until <= now:  # the lock has been served
                row.failures, row.locked_until = 0, None
            if (
                row.key.startswith("address:")
                and row.last_failure
                and row.last_failure <= now - _lock_time()
            ):
                row.failures = 0  # an address's failures count within the lock time
            if row.locked_until:
                attempt.refused = True
                attempt.locked_until = max(attempt.locked_until or now, row.locked_until)
        if attempt.refused:
            for row in rows:
                row.save()
            return attempt
        for row in rows:
            row.failures += 1
            row.last_failure = now
            if row.failures >= _limit(row.key):
                row.locked_until = now + _lock_time()
                attempt.locked_by_this.append(row.key)
                attempt.locked_until = row.locked_until
            row.save()
    return attempt


def _forget_old(now: dt.datetime) -> None:
    """Counts with no failure for a day are forgotten (the table does not grow with every
    name ever guessed); a lock in force stays."""
    stale = LoginLock.objects.filter(last_failure__lt=now - FORGET_AFTER)
    stale.exclude(locked_until__gt=now).delete()


def succeeded(attempt: Attempt) -> None:
    """The password was right: the account starts afresh; the address's reservation is
    taken back."""
    for key in attempt.keys:
        rows = LoginLock.objects.filter(key=key)
        if key.startswith("address:"):
            rows.update(failures=Greatest(F("failures") - 1, 0))
            if key in attempt.locked_by_this:
                rows.update(locked_until=None)
        else:
            rows.update(failures=0, locked_until=None)


def failed(attempt: Attempt) -> bool:
    """The password was wrong (already counted): whether this attempt locked a key."""
    return bool(attempt.locked_by_this)


def is_locked(typed: str, address: str = "") -> bool:
    """Whether a login as ``typed`` from ``address`` would be refused now."""
    keys, _user = keys_for(typed, address)
    now = clock.now()
    return LoginLock.objects.filter(key__in=keys, locked_until__gt=now).exists()


def locked_until(user) -> dt.datetime | None:
    """When the account's lock ends, if it is locked now."""
    row = LoginLock.objects.filter(key=f"user:{user.pk}", locked_until__gt=clock.now()).first()
    return row.locked_until if row else None


def unlock(user) -> None:
    """Clear an account's lock (an administrator reset its password)."""
    LoginLock.objects.filter(key=f"user:{user.pk}").update(failures=0, locked_until=None)
