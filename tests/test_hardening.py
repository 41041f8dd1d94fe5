"""Request-level protection (issue 14): a register locked by a long import answers 503
"try again in a minute", never 500; a NUL or another control character in an address or
a form is refused with 400 before the session and the login; a payment form's ``next``
cannot send anyone to another site; every answer carries the Content-Security-Policy and
the other security headers, and no page breaks it (in Chromium).

Run on SQLite and on PostgreSQL (``TAIZHANG_DATABASE_URL``), like the rest of the suite.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.urls import reverse
from helpers import area_users, write_csv
from test_benefits import county  # noqa: F401  (fixtures of the benefits pages)
from test_benefits_web import listed  # noqa: F401

from taizhang.audit.models import AuditEntry
from taizhang.lib.idnumber import make
from taizhang.register.models import Event

A, C = "410325100201", "410325101201"
WOMAN = make("410325", dt.date(1990, 5, 20), 2)

BUSY = "The register is busy with a long import or update; try again in a minute."
CONTROL = "holds a control character (such as NUL)"


@pytest.fixture
def register(tmp_path, taizhang):
    """A county with two townships, one village each; 王秀英 in village A; the users of
    ``helpers.area_users`` (alice: a village worker of A; ada: the county)."""
    orgs = write_csv(
        tmp_path / "o.csv",
        ["code", "name", "parent"],
        [
            ["410325", "嵩县", ""],
            ["410325100", "城关镇", "410325"],
            [A, "东街村", "410325100"],
            ["410325101", "田湖镇", "410325"],
            [C, "田湖村", "410325101"],
        ],
    )
    persons = write_csv(
        tmp_path / "p.csv", ["id_number", "name", "sex", "village"], [[WOMAN, "王秀英", "F", A]]
    )
    for path in (orgs, persons):
        result = taizhang("import", path)
        assert result.exit_code == 0, result.output
    users = area_users(a=A, c=C, township="410325100", county="410325")
    from taizhang.register.models import Person

    users.woman = Person.objects.get(name="王秀英")
    return users


def record_checkup(client, user, person, findings="normal"):
    client.force_login(user)
    return client.post(
        reverse("record_event", args=[person.pk, "checkup"]),
        {"date": "2026-11-02", "findings": findings},
    )


# ---------------------------------------------------------------------------
# 6. A register locked by a long write


@pytest.fixture
def file_register(transactional_db, register, tmp_path):
    """On SQLite, the test's register copied into a file and used as the default database
    for the test: an in-memory database has no locks between connections, a file has
    (as in production). On PostgreSQL the test database itself."""
    memory = connections["default"]
    if memory.vendor != "sqlite":
        yield None
        return
    path = tmp_path / "register.sqlite3"
    memory.ensure_connection()
    copy = sqlite3.connect(path)
    memory.connection.backup(copy)
    copy.close()
    wrapper = type(memory)({**memory.settings_dict, "NAME": str(path)}, alias="default")
    connections["default"] = wrapper
    try:
        yield path
    finally:
        wrapper.close()
        connections["default"] = memory


class LongImport:
    """Another connection holding the register's write lock, as an import does for the
    whole import: a write transaction on SQLite, an exclusive lock of the events table
    on PostgreSQL (reads go on; writes wait)."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        if self.path is not None:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            s = connection.settings_dict
            self.conn = psycopg.connect(
                dbname=s["NAME"],
                user=s["USER"],
                password=s["PASSWORD"],
                host=s["HOST"],
                port=s["PORT"],
            )
            self.conn.execute(f"LOCK TABLE {Event._meta.db_table} IN EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


def test_a_page_write_during_a_long_import_answers_503_soon_and_writes_nothing(
    client, file_register, settings
):
    from django.contrib.auth import get_user_model

    from taizhang.register.models import Person

    settings.TAIZHANG_WEB_LOCK_WAIT = 0.5
    alice = get_user_model().objects.get(username="alice")
    woman = Person.objects.get(name="王秀英")
    client.force_login(alice)  # the session is written before the import starts
    events, entries = Event.objects.count(), AuditEntry.objects.count()
    with LongImport(file_register):
        started = time.monotonic()
        r = client.post(
            reverse("record_event", args=[woman.pk, "checkup"]),
            {"date": "2026-11-02", "findings": "normal"},
        )
        waited = time.monotonic() - started
        # Reading goes on during the import (a person's page is not read only: its view
        # is audited, and answers 503 too).
        assert client.get(reverse("home")).status_code == 200
    assert r.status_code == 503
    assert r["Retry-After"] == "60"
    assert BUSY in r.content.decode()
    assert waited < 10  # a few seconds at most, not the commands' long wait
    assert Event.objects.count() == events
    assert AuditEntry.objects.count() == entries
    # Once the import is over, the same form goes through.
    r = client.post(
        reverse("record_event", args=[woman.pk, "checkup"]),
        {"date": "2026-11-02", "findings": "normal"},
    )
    assert r.status_code == 302
    assert Event.objects.filter(kind="checkup").count() == 1


def test_a_login_during_a_long_import_answers_503(client, file_register, settings):
    """The login writes (the failure counter, the session): refused the same way."""
    settings.TAIZHANG_WEB_LOCK_WAIT = 0.5
    if file_register is None:
        pytest.skip("on PostgreSQL the login writes no table the import locks")
    with LongImport(file_register):
        r = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert r.status_code == 503
    assert BUSY in r.content.decode()


def test_a_busy_register_met_outside_a_view_answers_503_too():
    """Where no view is running (a middleware saving the session), the last resort's
    handler sees the lock and answers the same 503, with no incident written."""
    from django.db.utils import OperationalError
    from django.test import RequestFactory

    from taizhang.web.views.errors import server_error

    request = RequestFactory().post("/people/1/record/checkup/")
    try:
        raise OperationalError("database is locked")
    except OperationalError:
        r = server_error(request)
    assert r.status_code == 503
    assert r["Retry-After"] == "60"
    assert BUSY in r.content.decode()


def test_a_busy_postgresql_lock_is_recognised():
    from taizhang.web.middleware import is_busy

    class LockNotAvailable(Exception):
        sqlstate = "55P03"

    from django.db.utils import OperationalError

    wrapped = OperationalError("canceling statement due to lock timeout")
    wrapped.__cause__ = LockNotAvailable()
    assert is_busy(wrapped)
    assert not is_busy(OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))


def test_commands_wait_long_and_pages_briefly():
    from django.conf import settings

    from taizhang import config

    assert config._sqlite("x.sqlite3")["OPTIONS"]["timeout"] >= 60
    assert settings.TAIZHANG_WEB_LOCK_WAIT <= 5


# ---------------------------------------------------------------------------
# 8. Control characters


@pytest.mark.django_db
class TestControlCharacters:
    def test_it_refuses_a_login_with_a_nul_before_anything_is_written(self, client, register):
        r = client.post(reverse("login"), {"username": "ali\x00ce", "password": "pw"})
        assert r.status_code == 400
        assert CONTROL in r.content.decode()
        from taizhang.accounts.models import LoginLock

        assert not LoginLock.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="login").exists()

    def test_it_refuses_a_nul_in_the_query(self, client, register):
        client.force_login(register.ada)
        r = client.get("/?org=410325%00")
        assert r.status_code == 400
        assert CONTROL in r.content.decode()
        assert client.get("/?org=410325").status_code == 200

    def test_it_refuses_a_nul_in_a_query_name_and_the_path(self, client, register):
        client.force_login(register.ada)
        assert client.get("/", {"org\x00": "410325"}).status_code == 400
        assert client.get("/people/%00/").status_code == 400
        assert client.get("/people/", {"q": "王\x1b"}).status_code == 400

    def test_it_refuses_a_form_with_a_nul_and_writes_nothing(self, client, register):
        before = AuditEntry.objects.count()
        r = record_checkup(client, register.alice, register.woman, findings="ok\x00")
        assert r.status_code == 400
        assert CONTROL in r.content.decode()
        assert not Event.objects.filter(kind="checkup").exists()
        assert AuditEntry.objects.count() == before
        r = client.post(
            reverse("record_event", args=[register.woman.pk, "checkup"]),
            {"date\x00": "2026-11-02", "findings": "ok"},
        )
        assert r.status_code == 400
        assert not Event.objects.filter(kind="checkup").exists()

    def test_it_keeps_tabs_and_line_breaks_in_a_form(self, client, register):
        r = record_checkup(client, register.alice, register.woman, findings="a\tb\r\nc")
        assert r.status_code == 302
        assert Event.objects.filter(kind="checkup").count() == 1

    def test_it_refuses_a_nul_in_a_cookie_and_deletes_the_cookie(self, client, register):
        from django.conf import settings

        client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ij"
        r = client.get(reverse("login"))
        assert r.status_code == 400
        assert r.cookies[settings.SESSION_COOKIE_NAME].value == ""  # deleted
        assert client.get(reverse("login")).status_code == 200

    def test_it_speaks_the_language_chosen(self, client, register):
        from django.conf import settings

        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        r = client.get("/?org=410325%00")
        assert r.status_code == 400
        assert "控制字符" in r.content.decode()


# ---------------------------------------------------------------------------
# 11. Redirects and headers


@pytest.mark.django_db
class TestPaymentFormNext:
    def post(self, client, listed, nxt):  # noqa: F811
        client.force_login(listed.tom)
        return client.post(
            reverse("benefits:record_payment", args=[listed.payment.pk]),
            {"status": "paid", "date": "2026-01-31", "channel": "bank", "next": nxt},
        )

    @pytest.mark.parametrize(
        "nxt",
        ["https://evil.example/", "//evil.example/x", "http:\\\\evil.example", "javascript:x"],
    )
    def test_it_does_not_send_anyone_to_another_site(self, client, listed, nxt):  # noqa: F811
        r = self.post(client, listed, nxt)
        assert r.status_code == 302
        assert r.url == reverse("benefits:enrolment", args=[listed.payment.enrolment_id])

    def test_it_goes_back_to_the_page_of_the_form(self, client, listed):  # noqa: F811
        back = reverse("benefits:month") + "?org=410325100201&month=202601"
        assert self.post(client, listed, back).url == back


@pytest.mark.django_db
def test_every_answer_carries_the_security_headers(client, register):
    from taizhang.web.middleware import CONTENT_SECURITY_POLICY

    client.force_login(register.ada)
    for url in ["/", "/accounts/login/", "/?org=410325%00", "/static/taizhang/taizhang.css"]:
        r = client.get(url)
        assert r["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert r["X-Content-Type-Options"] == "nosniff", url
        assert r["Referrer-Policy"] == "same-origin", url
        assert r["X-Frame-Options"] == "DENY", url
    policy = dict(p.split(" ", 1) for p in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_no_template_holds_inline_script_or_style():
    """Pages keep their CSS and JS in static files (the PDFs, never served as pages, may
    hold their own <style>)."""
    import re

    import taizhang

    root = Path(taizhang.__file__).parent
    found = []
    for path in root.rglob("templates/**/*.html"):
        if path.name.endswith("pdf.html"):
            continue
        text = path.read_text()
        for pattern in (
            r"<style",
            r"<script(?![^>]*\bsrc=)",
            r"\son[a-z]+=",
            r"\shx-on",
            r"style=",
        ):
            if re.search(pattern, text):
                found.append(f"{path.relative_to(root)}: {pattern}")
    assert found == []


def test_the_https_settings_follow_the_environment(tmp_path):
    """TAIZHANG_BEHIND_PROXY trusts X-Forwarded-Proto; TAIZHANG_HTTPS trusts forms from
    https://<allowed host> (or TAIZHANG_ORIGIN) and sends HSTS."""
    import json
    import subprocess

    code = (
        "import json, taizhang.settings as s; print(json.dumps([getattr(s, 'SECURE_PROXY_SSL_HEADER', None),"
        " getattr(s, 'CSRF_TRUSTED_ORIGINS', []), getattr(s, 'SECURE_HSTS_SECONDS', 0)]))"
    )

    def read(**env):
        base = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")}
        base.update(TAIZHANG_DATA=str(tmp_path), TAIZHANG_SECRET_KEY="0f" * 32, **env)
        out = subprocess.run(
            [sys.executable, "-c", code], env=base, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout)

    assert read() == [None, [], 0]
    assert read(
        TAIZHANG_BEHIND_PROXY="1",
        TAIZHANG_HTTPS="1",
        TAIZHANG_ALLOWED_HOSTS="taizhang.example.gov.cn,.county.cn",
    ) == [
        ["HTTP_X_FORWARDED_PROTO", "https"],
        ["https://taizhang.example.gov.cn", "https://*.county.cn"],
        31536000,
    ]
    assert read(TAIZHANG_HTTPS="1", TAIZHANG_ORIGIN="https://a.cn:8443")[1] == ["https://a.cn:8443"]


# ---------------------------------------------------------------------------
# The policy in a browser: no page breaks it

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_no_page_breaks_the_content_security_policy(register, live_server):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from taizhang.accounts.models import Profile

    for user in (register.ada, register.alice):
        user.set_password("pw-" + user.username)
        user.save()
    assert Profile.objects.filter(user=register.ada).exists()
    base = live_server.url
    person = f"/people/{register.woman.pk}/"
    pages = {
        "ada": [
            "/?period=2025",
            "/org/410325/",
            "/people/?q=wxy",
            person,
            person + "record/checkup/",
            "/ledgers/",
            "/ledgers/handbook/",
            "/benefits/",
            "/cases/",
            "/cases/new/",
            "/targets/",
            "/reports/",
            "/quality/",
            "/projection/",
            "/audit/",
        ],
        "alice": ["/ledgers/check-in/", f"/ledgers/{A}/202612/"],
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            violations: list[str] = []

            def collect(page, message):
                if message.type == "error" and "Content Security Policy" in message.text:
                    violations.append(f"{page.url}: {message.text}")

            for username, urls in pages.items():
                page = browser.new_page(locale="zh-CN")
                page.on("console", lambda m, page=page: collect(page, m))
                page.add_init_script(
                    "document.addEventListener('securitypolicyviolation', e =>"
                    " console.error('Content Security Policy: ' + e.violatedDirective"
                    " + ' ' + e.blockedURI + ' ' + (e.sample || '')))"
                )
                page.goto(f"{base}/accounts/login/")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", "pw-" + username)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                for url in urls:
                    r = page.goto(base + url)
                    assert r.status == 200, url
                    page.wait_for_load_state("networkidle")
                    for chart in page.locator(".chart canvas").all()[:2]:
                        chart.hover()  # ECharts' tooltips
                        page.wait_for_timeout(200)
                if username == "alice":
                    # The language menu sends itself (taizhang.js, no inline handler).
                    with page.expect_navigation():
                        page.select_option("select[name=language]", "en")
                    page.wait_for_load_state()
                    assert page.locator("html").get_attribute("lang") == "en"
                    # The check-in's behaviour, now in taizhang.js: a refused code is
                    # shown, and the field emptied for the next scan.
                    page.goto(base + "/ledgers/check-in/")
                    page.fill("[name=code]", "not-a-key")
                    page.press("[name=code]", "Enter")
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(300)
                    assert page.input_value("[name=code]") == ""
                    assert "not-a-key" in page.locator("#checkins").inner_text()
                page.close()
        finally:
            browser.close()
    assert violations == []


def test_taizhang_serve_believes_only_its_own_proxy(monkeypatch):
    """Behind the proxy, the client's address and scheme come from X-Forwarded-For and
    -Proto when the proxy on this machine sends them, and from nobody else."""
    from waitress.proxy_headers import proxy_headers_middleware

    from taizhang.web.cli import proxy_options

    monkeypatch.delenv("TAIZHANG_BEHIND_PROXY", raising=False)
    assert proxy_options() == {}
    monkeypatch.setenv("TAIZHANG_BEHIND_PROXY", "1")
    options = proxy_options()
    seen = {}

    def app(environ, start_response):
        seen.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        start_response("200 OK", [])
        return [b""]

    wrapped = proxy_headers_middleware(
        app,
        trusted_proxy=options["trusted_proxy"],
        trusted_proxy_count=options["trusted_proxy_count"],
        trusted_proxy_headers=options["trusted_proxy_headers"],
        clear_untrusted=options["clear_untrusted_proxy_headers"],
    )
    headers = {"HTTP_X_FORWARDED_FOR": "10.1.2.3", "HTTP_X_FORWARDED_PROTO": "https"}
    for remote, expected in (
        ("127.0.0.1", ("10.1.2.3", "https")),
        ("10.9.9.9", ("10.9.9.9", "http")),
    ):
        environ = {"REMOTE_ADDR": remote, "wsgi.url_scheme": "http", **headers}
        wrapped(environ, lambda *a: None)
        assert (seen["addr"], seen["scheme"]) == expected
