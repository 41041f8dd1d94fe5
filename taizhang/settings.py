"""Django settings. Everything a deployment changes comes from the environment (see config.py)."""

import os
from pathlib import Path

from taizhang import clock, config

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
    "taizhang.imports",
    "taizhang.indicators",
    "taizhang.accounts",
    "taizhang.benefits",
    "taizhang.cases",
    "taizhang.targets",
    "taizhang.exchange",
    "taizhang.reports",
    "taizhang.ledgers",
    "taizhang.projection",
    "taizhang.quality",
    "taizhang.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
TAIZHANG_LOGIN_MAX_FAILURES = 5
TAIZHANG_LOGIN_LOCK_MINUTES = 15
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = config.data_dir() / "static"
