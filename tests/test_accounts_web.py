"""The users page (county administrators, over their own subtree), changing one's own
password, and the session and cookie settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.urls import reverse
from helpers import make_user

from taizhang.accounts.models import Profile, Role
from taizhang.audit.models import AuditEntry
from taizhang.orgunits.models import OrgUnit

GOOD = "plum blossom 2026"
A, C = "410325100201", "410325101201"


@pytest.fixture
def users(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    county = OrgUnit.objects.create(code="410325", name="嵩县", level=3)
    other = OrgUnit.objects.create(code="410326", name="汝阳县", level=3)
    for code, name in (("410325100", "城关镇"), ("410325101", "大章镇")):
        town = OrgUnit.objects.create(code=code, name=name, parent=county, level=4)
        OrgUnit.objects.create(code=code + "201", name=name + "一村", parent=town, level=5)
    OrgUnit.objects.create(code="410326100", name="城关镇", parent=other, level=4)

    class U:
        ada = make_user("ada", Role.COUNTY_ADMIN, "410325", password=GOOD)
        tom = make_user("tom", Role.TOWNSHIP_STATISTICIAN, "410325100", password=GOOD)
        alice = make_user("alice", Role.VILLAGE_WORKER, A, password=GOOD)
        charlie = make_user("charlie", Role.VILLAGE_WORKER, C, password=GOOD)
        zed = make_user("zed", Role.COUNTY_ADMIN, "410326", password=GOOD)
        zoe = make_user("zoe", Role.TOWNSHIP_STATISTICIAN, "410326100", password=GOOD)

    return U


PAGES = ["users", "user_new"]


def test_only_county_administrators_reach_the_users_pages(client, users):
    for user, expected in ((users.tom, 403), (users.alice, 403), (users.ada, 200)):
        client.force_login(user)
        assert [client.get(reverse(p)).status_code for p in PAGES] == [expected] * 2
        r = client.get(reverse("user", args=[users.charlie.pk]))
        assert r.status_code == expected


def test_an_anonymous_visitor_is_sent_to_log_in(client, users):
    r = client.get(reverse("users"))
    assert r.status_code == 302 and r.url.startswith(reverse("login"))


def test_the_list_holds_the_subtree_only(client, users):
    client.force_login(users.ada)
    r = client.get(reverse("users"))
    names = [p.user.username for p in r.context["page"]]
    assert names == ["ada", "tom", "alice", "charlie"]  # by org unit: county, township, villages
    page = r.content.decode()
    assert "Village worker" in page and "410325100201" in page
    assert "zoe" not in page


def test_an_account_outside_the_subtree_answers_404(client, users):
    client.force_login(users.ada)
    assert client.get(reverse("user", args=[users.zoe.pk])).status_code == 404
    assert client.post(reverse("user_deactivate", args=[users.zoe.pk])).status_code == 404
    assert users.zoe.__class__.objects.get(pk=users.zoe.pk).is_active


def test_it_creates_an_account_of_the_subtree(client, users):
    client.force_login(users.ada)
    data = {
        "username": "ｌｉｎａ ",
        "role": Role.VILLAGE_WORKER,
        "org": C,
        "password1": GOOD,
        "password2": GOOD,
    }
    r = client.post(reverse("user_new"), data)
    assert r.status_code == 302
    profile = Profile.objects.get(user__username="lina")
    assert profile.org_unit_id == C
    assert AuditEntry.objects.get(action="user_create").source == "127.0.0.1"
    assert client.login(username="lina", password=GOOD)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"org": "410326100"}, "org"),  # another county: not even a choice
        ({"org": "410325100"}, "org"),  # a township for a village worker
        ({"username": "Alice"}, "username"),
        ({"username": "li na"}, "username"),
        ({"password1": "1234567890", "password2": "1234567890"}, "password1"),
        ({"password2": "something else 1"}, "password2"),
    ],
)
def test_it_refuses_what_the_rules_refuse(client, users, change, field):
    client.force_login(users.ada)
    data = {"username": "lina", "role": Role.VILLAGE_WORKER, "org": C}
    data |= {"password1": GOOD, "password2": GOOD} | change
    r = client.post(reverse("user_new"), data)
    assert r.status_code == 200
    assert field in r.context["form"].errors
    assert not Profile.objects.filter(user__username__iexact="lina").exists()


def test_it_deactivates_and_reactivates(client, users):
    client.force_login(users.ada)
    client.post(reverse("user_deactivate", args=[users.alice.pk]))
    alice = users.alice.__class__.objects.get(pk=users.alice.pk)
    assert not alice.is_active
    assert not client.login(username="alice", password=GOOD)
    client.force_login(users.ada)
    client.post(reverse("user_reactivate", args=[users.alice.pk]))
    assert users.alice.__class__.objects.get(pk=users.alice.pk).is_active
    actions = AuditEntry.objects.filter(object_id=str(users.alice.pk)).values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["user_deactivate", "user_reactivate"]


def test_a_deactivated_users_session_ends(client, users):
    client.force_login(users.alice)
    assert client.get("/people/").status_code == 200
    users.alice.is_active = False
    users.alice.save()
    assert client.get("/people/").status_code == 302


def test_an_administrator_cannot_deactivate_themselves(client, users):
    client.force_login(users.ada)
    r = client.post(reverse("user_deactivate", args=[users.ada.pk]), follow=True)
    assert "cannot deactivate your own account" in r.content.decode()
    assert users.ada.__class__.objects.get(pk=users.ada.pk).is_active


def test_it_resets_a_password_and_lifts_the_lock(client, users):
    for _ in range(5):
        client.post(reverse("login"), {"username": "alice", "password": "wrong one"})
    client.force_login(users.ada)
    r = client.post(
        reverse("user", args=[users.alice.pk]),
        {"password1": "river stone 88", "password2": "river stone 88"},
    )
    assert r.status_code == 302
    client.logout()
    r = client.post(reverse("login"), {"username": "alice", "password": "river stone 88"})
    assert r.status_code == 302
    assert AuditEntry.objects.filter(action="password_reset").count() == 1


class TestOwnPassword:
    def test_every_user_reaches_it_from_the_top_bar(self, client, users):
        client.force_login(users.alice)
        page = client.get("/people/").content.decode()
        assert reverse("password_change") in page
        assert reverse("users") not in page  # the users page is for administrators
        assert client.get(reverse("password_change")).status_code == 200

    def test_it_changes_the_password_audited_and_keeps_the_session(self, client, users):
        client.force_login(users.alice)
        r = client.post(
            reverse("password_change"),
            {
                "old_password": GOOD,
                "new_password1": "river stone 88",
                "new_password2": "river stone 88",
            },
        )
        assert r.status_code == 302
        assert client.get("/people/").status_code == 200
        assert AuditEntry.objects.get(action="password_change").object_id == str(users.alice.pk)
        client.logout()
        assert client.login(username="alice", password="river stone 88")

    @pytest.mark.parametrize(
        "old, new, field",
        [("wrong", "river stone 88", "old_password"), (GOOD, "alice2026", "new_password2")],
    )
    def test_it_refuses_a_wrong_old_or_weak_new_password(self, client, users, old, new, field):
        client.force_login(users.alice)
        r = client.post(
            reverse("password_change"),
            {"old_password": old, "new_password1": new, "new_password2": new},
        )
        assert r.status_code == 200
        assert field in r.context["form"].errors

    def test_the_rules_speak_chinese(self, client, users):
        # "short1" breaks the length rule: Django's own catalogue has no Chinese for its
        # message; Taizhang's gives it.
        client.force_login(users.alice)
        r = client.post(
            reverse("password_change"),
            {"old_password": GOOD, "new_password1": "short1", "new_password2": "short1"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        page = r.content.decode()
        assert "密码太短：至少需要 10 个字符。" in page
        assert "too short" not in page


class TestSessionsAndCookies:
    def test_cookies_are_http_only_and_same_site_lax(self, client, users):
        r = client.post(reverse("login"), {"username": "ada", "password": GOOD})
        cookie = r.cookies["sessionid"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert not cookie["secure"]
        assert cookie["max-age"] == ""  # ends when the browser closes

    @staticmethod
    def settings_with(tmp_path, **env):
        code = (
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'taizhang.settings'; "
            "from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_AGE, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SESSION_EXPIRE_AT_BROWSER_CLOSE)"
        )
        environ = {**os.environ, "TAIZHANG_DATA": str(tmp_path), **env}
        return subprocess.run(
            [sys.executable, "-c", code], env=environ, capture_output=True, text=True
        )

    def test_the_environment_sets_session_length_and_secure_cookies(self, tmp_path):
        out = self.settings_with(tmp_path).stdout.split()
        assert out == ["28800", "False", "False", "True"]
        out = self.settings_with(
            tmp_path,
            TAIZHANG_SESSION_HOURS="12",
            TAIZHANG_SECURE_COOKIES="1",
            TAIZHANG_SESSION_AT_BROWSER_CLOSE="0",
        ).stdout.split()
        assert out == ["43200", "True", "True", "False"]
        # Served over HTTPS, the cookies are Secure without saying so twice (0 overrides).
        out = self.settings_with(tmp_path, TAIZHANG_HTTPS="1").stdout.split()
        assert out == ["28800", "True", "True", "True"]
        out = self.settings_with(
            tmp_path, TAIZHANG_HTTPS="1", TAIZHANG_SECURE_COOKIES="0"
        ).stdout.split()
        assert out == ["28800", "False", "False", "True"]

    def test_a_bad_session_length_is_a_sentence(self, tmp_path):
        result = subprocess.run(
            [sys.executable, "-c", "from taizhang.cli import main; main()", "users", "list"],
            env={**os.environ, "TAIZHANG_DATA": str(tmp_path), "TAIZHANG_SESSION_HOURS": "eight"},
            capture_output=True,
            text=True,
        )
        assert "TAIZHANG_SESSION_HOURS must be a whole number from 1 to 720, not 'eight'" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
