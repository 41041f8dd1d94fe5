"""The interface speaks Chinese by default and English on request."""

import pytest
from django.test import override_settings


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="zh-hans")
def test_it_shows_the_login_page_in_chinese_by_default(client):
    from django.utils import translation

    with translation.override(None):
        page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="")
    assert "登录台帐系统" in page.content.decode()


@pytest.mark.django_db
def test_it_switches_to_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/")
    assert "Log in to Taizhang" in page.content.decode()


def test_it_has_every_message_translated():
    from pathlib import Path

    import taizhang

    po = (Path(taizhang.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po").read_text()
    entries = po.split("\n\n")[1:]
    untranslated = [e for e in entries if e.rstrip().endswith('msgstr ""')]
    assert untranslated == []
