"""What every request goes through before any view, login included.

- ``SecurityHeadersMiddleware``: the Content-Security-Policy (Django 5.2 has none of its
  own): scripts, styles, images and connections from the app's own address only — no
  inline script or style, no ``eval``. Every page keeps its CSS and JS in static files.
- ``RefuseControlCharactersMiddleware``: a path, query, form or cookie holding NUL or
  another control character is refused with 400 and a sentence, before anything reads the
  session or the database (PostgreSQL cannot store NUL; SQLite would store it as-is).
- ``BusyRegisterMiddleware``: a page waits for a write lock only a few seconds
  (``TAIZHANG_WEB_LOCK_WAIT``), where commands wait long; a write that still finds the
  register locked — by a long import, say — answers 503 with a sentence to try again in a
  minute and a ``Retry-After``, never 500.
"""

from __future__ import annotations

import contextlib
import contextvars
import re

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.utils import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import translation

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy (and X-Frame-Options) to every answer.

    The other headers come from Django's own middleware and settings:
    ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``
    (SecurityMiddleware), ``X-Frame-Options: DENY`` (XFrameOptionsMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # Also on the answers of the middleware below it (a refused NUL) that
        # XFrameOptionsMiddleware, further in, never sees.
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


# ---------------------------------------------------------------------------
# Control characters

_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RefuseControlCharactersMiddleware:
    """400 for a request whose path, query (names or values), form field names, form
    values or cookies hold a control character; a form value may hold tab, CR and LF (a
    textarea), nothing else. Nothing behind it runs: no session, no login, no write. A
    cookie holding one (the session's, say: only someone else can have put it there) is
    deleted by the same answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad_cookies = [
            name
            for name, value in request.COOKIES.items()
            if _ANY_CONTROL.search(name) or _ANY_CONTROL.search(value)
        ]
        if bad_cookies or _has_control_characters(request):
            response = _sentence_page(request, "web/400.html", status=400)
            for name in bad_cookies:  # planted by someone else: gone at the next request
                response.delete_cookie(name)
            return response
        return self.get_response(request)


def _has_control_characters(request: HttpRequest) -> bool:
    if _ANY_CONTROL.search(request.path):
        return True
    for name, values in request.GET.lists():
        if _ANY_CONTROL.search(name) or any(_ANY_CONTROL.search(v) for v in values):
            return True
    if request.method != "POST":
        return False
    for name, values in request.POST.lists():
        if _ANY_CONTROL.search(name) or any(_CONTROL_BUT_WHITESPACE.search(v) for v in values):
            return True
    for name, files in request.FILES.lists():
        if _ANY_CONTROL.search(name) or any(_ANY_CONTROL.search(f.name or "") for f in files):
            return True
    return False


# ---------------------------------------------------------------------------
# A register busy with a long write

_in_web_request: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "taizhang_in_web_request", default=False
)

# SQLSTATEs of PostgreSQL that mean "locked by another transaction, try again":
# lock_not_available (lock_timeout) and deadlock_detected.
_BUSY_SQLSTATES = {"55P03", "40P01"}


def lock_wait_seconds() -> float:
    return float(getattr(settings, "TAIZHANG_WEB_LOCK_WAIT", 3))


def _wait_briefly(connection) -> None:
    """Make ``connection`` give up on a lock after ``lock_wait_seconds()`` (on the driver's
    own cursor: no query wrapper sees it)."""
    seconds = lock_wait_seconds()
    if connection.vendor == "sqlite":
        sql = f"PRAGMA busy_timeout = {int(seconds * 1000)}"
    elif connection.vendor == "postgresql":
        sql = f"SET lock_timeout = '{int(seconds * 1000)}ms'"
    else:
        return
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
    # Done for as long as this connection lives — unless the SET ran inside a transaction
    # (a test's), whose rollback would undo it: then it is done again next time.
    if not connection.in_atomic_block:
        connection.taizhang_brief_wait = connection.connection


def _on_connection_created(sender, connection, **kwargs) -> None:
    if _in_web_request.get():
        _wait_briefly(connection)


connection_created.connect(_on_connection_created, dispatch_uid="taizhang-web-lock-wait")


def _brief_wait_first(execute, sql, params, many, context):
    """Before a request's first query on a connection opened earlier (server threads keep
    theirs, CONN_MAX_AGE), give it the brief wait, once; a request that queries nothing
    opens nothing."""
    connection = context["connection"]
    if getattr(connection, "taizhang_brief_wait", None) is not connection.connection:
        _wait_briefly(connection)
    return execute(sql, params, many, context)


def is_busy(error: BaseException | None) -> bool:
    """Whether ``error`` says the register was locked by another writer."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "sqlstate", None) in _BUSY_SQLSTATES:
            return True
        if isinstance(error, OperationalError) or type(error).__name__ == "OperationalError":
            text = str(error)
            if "database is locked" in text or "database table is locked" in text:
                return True
        error = error.__cause__ or error.__context__
    return False


def busy_response(request: HttpRequest | None) -> HttpResponse:
    """503: the register is busy with a long write; try again in a minute."""
    response = _sentence_page(request, "web/503.html", status=503)
    response["Retry-After"] = "60"
    return response


class BusyRegisterMiddleware:
    """Web requests wait for a lock only briefly; a locked register answers 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Connections opened during the request get the brief wait as they open
        # (``connection_created``); one already open (kept by CONN_MAX_AGE, or a test's)
        # before its first query.
        token = _in_web_request.set(True)
        try:
            with contextlib.ExitStack() as stack:
                for alias in connections:
                    stack.enter_context(connections[alias].execute_wrapper(_brief_wait_first))
                return self.get_response(request)
        finally:
            _in_web_request.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_busy(exception):
            return busy_response(request)
        return None


def _sentence_page(request: HttpRequest | None, template: str, *, status: int) -> HttpResponse:
    """A page of its own, in the language the person chose (cookie or browser): no menu, so
    it reads neither the session nor the database."""
    language = translation.get_language_from_request(request) if request else None
    with translation.override(language or translation.get_language()):
        body = loader.render_to_string(template, {}, request=None)
    return HttpResponse(body, status=status)
