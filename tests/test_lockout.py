"""Lock-out after failed logins: keyed on the account a name reaches, however it is typed,
and never checking more passwords than the limit, however many guesses arrive at once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.urls import reverse

from taizhang.accounts.models import LoginLock, Profile, Role
from taizhang.audit.models import AuditEntry
from taizhang.orgunits.models import OrgUnit

PASSWORD = "correct horse battery"
FAST = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def victim(django_user_model):
    county = OrgUnit.objects.create(code="410325", name="嵩县", level=3)
    user = django_user_model.objects.create_user("victim", password=PASSWORD)
    Profile.objects.create(user=user, role=Role.COUNTY_ADMIN, org_unit=county)
    return user


def log_in(client, username, password=PASSWORD, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(response) -> bool:
    return response.status_code == 302


@pytest.mark.django_db
class TestTheLockFollowsTheAccount:
    @pytest.fixture(autouse=True)
    def fast(self, settings):
        settings.PASSWORD_HASHERS = FAST

    @pytest.mark.parametrize(
        "typed", ["victim", "victim ", "\tvictim", "ｖｉｃｔｉｍ", " ｖｉｃｔｉｍ\n"]
    )
    def test_it_refuses_every_spelling_of_a_locked_name(self, client, victim, typed):
        for _ in range(5):
            log_in(client, "victim", "wrong password")
        r = log_in(client, typed)  # the right password
        assert r.status_code == 403
        assert "locked" in r.content.decode()
        assert "_auth_user_id" not in client.session

    def test_it_counts_the_spellings_together(self, client, victim):
        for typed in ("victim", "victim ", "\tvictim", "ｖｉｃｔｉｍ", "ｖｉｃｔｉｍ "):
            assert log_in(client, typed, "wrong password").status_code in (200, 403)
        assert not logged_in(log_in(client, "victim"))
        assert LoginLock.objects.get(key=f"user:{victim.pk}").locked_until is not None

    def test_four_failures_then_the_right_password_start_afresh(self, client, victim):
        for _ in range(4):
            log_in(client, "victim", "wrong password")
        assert logged_in(log_in(client, "victim "))
        client.logout()
        for _ in range(4):
            log_in(client, "victim", "wrong password")
        assert logged_in(log_in(client, "victim"))

    def test_the_lock_ends_after_the_lock_time(self, client, victim):
        start = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False):
            for _ in range(5):
                log_in(client, "victim", "wrong password")
            assert not logged_in(log_in(client, "victim"))
        with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
            assert not logged_in(log_in(client, "victim"))
        with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
            assert logged_in(log_in(client, "victim"))

    def test_failures_a_day_old_are_forgotten(self, client, victim):
        start = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False):
            for _ in range(4):
                log_in(client, "victim", "wrong password")
        with time_machine.travel(start + dt.timedelta(days=1, minutes=1), tick=False):
            log_in(client, "victim", "wrong password")
            assert LoginLock.objects.get(key=f"user:{victim.pk}").failures == 1
            assert logged_in(log_in(client, "victim"))

    def test_a_name_that_is_nobodys_locks_too_whatever_its_case(self, client, victim):
        for typed in ("ghost", "GHOST", "Ｇｈｏｓｔ", "ghost", "ghost "):
            log_in(client, typed, "guess")
        assert LoginLock.objects.get(key="name:ghost").locked_until is not None
        assert log_in(client, "ghost", "guess").status_code == 403
        assert logged_in(log_in(client, "victim"))  # another account: not locked

    def test_it_audits_failures_the_lock_and_refusals(self, client, victim):
        AuditEntry.objects.all().delete()
        for _ in range(6):
            log_in(client, "ｖｉｃｔｉｍ", "wrong password")
        actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
        assert actions == ["login_failed"] * 5 + ["login_locked", "login_refused"]
        entry = AuditEntry.objects.filter(action="login_locked").get()
        assert (entry.object_type, entry.object_id, entry.org_code) == (
            "user",
            str(victim.pk),
            "410325",
        )
        assert entry.source == "10.0.0.1"
        assert entry.detail["username"] == "ｖｉｃｔｉｍ"

    def test_an_address_can_be_locked_when_asked(self, client, victim, settings):
        settings.TAIZHANG_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
        for name in ("anna", "ben", "carl"):  # one guess each at three names
            log_in(client, name, "guess", address="10.9.9.9")
        r = log_in(client, "victim", address="10.9.9.9")
        assert r.status_code == 403
        assert logged_in(log_in(Client(), "victim", address="10.0.0.2"))

    def test_right_passwords_do_not_fill_an_address(self, client, victim, settings):
        settings.TAIZHANG_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
        for _ in range(5):
            assert logged_in(log_in(Client(), "victim", address="10.9.9.9"))


def test_the_lock_is_off_for_addresses_by_default(settings):
    assert settings.TAIZHANG_LOGIN_MAX_FAILURES_PER_ADDRESS == 0


@pytest.mark.django_db(transaction=True)
def test_forty_guesses_at_once_check_at_most_five_passwords(victim, monkeypatch, settings):
    """Forty wrong guesses at the same moment, each on its own database connection: the
    reservations queue on the account's row, five passwords are checked, the rest refused.

    Each thread has its own connection to the test database: on PostgreSQL the row lock
    (SELECT ... FOR UPDATE) makes them queue; on SQLite (an in-memory database with a shared
    cache) the write lock taken at BEGIN IMMEDIATE does. ``transaction=True``: the threads
    must see the committed rows, so the test cannot run inside a transaction."""
    # The guesses queue for the lock rather than give up: on a slow machine forty of them
    # can take longer than a page's usual wait, and then every answer would be "busy".
    settings.TAIZHANG_WEB_LOCK_WAIT = 60
    checks = []
    real_authenticate = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        checks.append(username)
        return real_authenticate(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    start = threading.Barrier(40)
    statuses = []

    def guess(n):
        try:
            client = Client()
            start.wait()
            typed = ["victim", "victim ", "\tvictim", "ｖｉｃｔｉｍ"][n % 4]
            # "Busy" (503, SQLite's shared cache refuses a locked table at once) is asked
            # again, as a person would: a busy answer checked no password.
            for _ in range(100):
                status = log_in(client, typed, f"guess {n}").status_code
                if status != 503:
                    break
                time.sleep(0.05)
            statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checks) <= 5
    assert 302 not in statuses and 403 in statuses
    if connection.vendor == "postgresql":
        # Four wrong passwords answer the form again; the fifth locks (403), and so do
        # the guesses refused unchecked.
        assert len(checks) == 5
        assert sorted(statuses) == [200] * 4 + [403] * 36
    else:
        # SQLite: a page that waits more than TAIZHANG_WEB_LOCK_WAIT for the write lock
        # answers "busy" (503) — unchecked too, so fewer than five may be checked.
        assert set(statuses) <= {200, 403, 503}
    assert not logged_in(log_in(Client(), "victim"))
