"""Django settings. Everything a deployment changes comes from the environment (see config.py)."""

import os
from pathlib import Path

from taizhang import clock, config
from taizhang.errors import UserError

BASE_DIR = config.data_dir()

SECRET_KEY = os.environ.get("TAIZHANG_DJANGO_SECRET") or config.secret_file("django.key").hex()
DEBUG = os.environ.get("TAIZHANG_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("TAIZHANG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "taizhang.audit",
    "taizhang.orgunits",
    "taizhang.register",
    "taizhang.corrections",
    "taizhang.imports",
    "taizhang.indicators",
    "taizhang.figures",
    "taizhang.accounts",
    "taizhang.benefits",
    "taizhang.cases",
    "taizhang.targets",
    "taizhang.exchange",
    "taizhang.reports",
    "taizhang.ledgers",
    "taizhang.projection",
    "taizhang.quality",
    "taizhang.operations",
    "taizhang.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "taizhang.web.middleware.SecurityHeadersMiddleware",
    # Before the session and the login: a NUL in a form or an address is refused with 400.
    "taizhang.web.middleware.RefuseControlCharactersMiddleware",
    # A page waits TAIZHANG_WEB_LOCK_WAIT seconds for a lock, then answers 503.
    "taizhang.web.middleware.BusyRegisterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "taizhang.accounts.middleware.RequireScopedViewMiddleware",
]

ROOT_URLCONF = "taizhang.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "taizhang.web.context.area",
            ],
        },
    },
]

WSGI_APPLICATION = "taizhang.wsgi.application"

DATABASES = {"default": config.database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = clock.zone().key  # refuses, in a sentence, a name that is no time zone
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    """An environment variable holding a whole number in [low, high], or a sentence."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise UserError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


# Logins, passwords, sessions and cookies (docs/accounts.md, docs/configuration.md).
# Failed logins: see taizhang/accounts/lockout.py.
TAIZHANG_LOGIN_MAX_FAILURES = 5
TAIZHANG_LOGIN_LOCK_MINUTES = 15
TAIZHANG_LOGIN_MAX_FAILURES_PER_ADDRESS = _whole_number(
    "TAIZHANG_LOGIN_MAX_FAILURES_PER_ADDRESS", 0, 0, 1_000_000
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A session lasts one working day (8 hours from logging in) and, by default, ends when the
# browser closes: village offices share computers, and the pages show ID numbers.
SESSION_COOKIE_AGE = _whole_number("TAIZHANG_SESSION_HOURS", 8, 1, 24 * 30) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = os.environ.get("TAIZHANG_SESSION_AT_BROWSER_CLOSE") != "0"
# Cookies: never read by scripts, not sent on other sites' requests, and over HTTPS only
# when the site is served over HTTPS (TAIZHANG_HTTPS=1, or TAIZHANG_SECURE_COOKIES=1 on
# its own; off by default so that the embedded server's http:// works).
TAIZHANG_SECURE_COOKIES = os.environ.get("TAIZHANG_SECURE_COOKIES") == "1" or (
    os.environ.get("TAIZHANG_HTTPS") == "1" and os.environ.get("TAIZHANG_SECURE_COOKIES") != "0"
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = TAIZHANG_SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True  # the pages send the token themselves
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = config.data_dir() / "static"

# How long a page waits for the register's write lock (a long import holds it) before it
# answers 503 "try again in a minute"; commands wait longer (config._sqlite).
TAIZHANG_WEB_LOCK_WAIT = 3

# Security headers (docs/deploy.md): SecurityMiddleware sends nosniff, Referrer-Policy
# same-origin and Cross-Origin-Opener-Policy; XFrameOptionsMiddleware X-Frame-Options
# DENY; taizhang.web.middleware the Content-Security-Policy.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy that terminates HTTPS and sets X-Forwarded-Proto (and
# overwrites whatever a client sent in it): requests it forwards as https are secure.
if os.environ.get("TAIZHANG_BEHIND_PROXY") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over HTTPS: forms are accepted from https://<each allowed host> (or the origins
# in TAIZHANG_ORIGIN), and browsers are told to use HTTPS only (HSTS).
if os.environ.get("TAIZHANG_HTTPS") == "1":
    CSRF_TRUSTED_ORIGINS = [
        o.strip() for o in os.environ.get("TAIZHANG_ORIGIN", "").split(",") if o.strip()
    ] or [
        "https://" + ("*" + h if h.startswith(".") else h)
        for h in (h.strip() for h in ALLOWED_HOSTS)
        if h and h != "*"
    ]
    SECURE_HSTS_SECONDS = int(os.environ.get("TAIZHANG_HSTS_SECONDS", "31536000"))
