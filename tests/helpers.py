"""Small helpers the test files share: writing import files, making users, walking URLs."""

import csv

# The columns of the events files the tests write (docs/imports.md, "events").
EVENT_HEADER = [
    "id_number",
    "event",
    "date",
    "spouse_id_number",
    "child_id_number",
    "child_name",
    "child_sex",
    "delivery_place",
    "village",
    "method",
]


def write_csv(path, header, rows, encoding="utf-8"):
    """Write an import file (header, then rows) and return its path."""
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def make_user(name, role, org, password=None):
    """An account with one org unit and role (password only when given: force_login needs none)."""
    from django.contrib.auth import get_user_model

    from taizhang.accounts.models import Profile

    user = get_user_model().objects.create(username=name)
    if password:
        user.set_password(password)
        user.save()
    Profile.objects.create(user=user, role=role, org_unit_id=org)
    return user


def area_users(*, a, c, township, county, **more):
    """The users every permission test walks: alice and bob (village ``a``), charlie (village
    ``c`` of another township), tom (``township``) and ada (``county``); ``more`` adds others
    as name=(role, org)."""
    from types import SimpleNamespace

    from taizhang.accounts.models import Role

    users = {
        "alice": (Role.VILLAGE_WORKER, a),
        "bob": (Role.VILLAGE_WORKER, a),
        "charlie": (Role.VILLAGE_WORKER, c),
        "tom": (Role.TOWNSHIP_STATISTICIAN, township),
        "ada": (Role.COUNTY_ADMIN, county),
        **more,
    }
    return SimpleNamespace(**{name: make_user(name, *spec) for name, spec in users.items()})


def statuses(client, user, urls):
    """The status each of ``urls`` ({name: url}) answers ``user`` with."""
    client.force_login(user)
    return {name: client.get(url).status_code for name, url in urls.items()}


def not_sent_to_log_in(client, urls):
    """Those of ``urls`` that do not send an anonymous visitor to the login page."""
    from django.urls import reverse

    login = reverse("login")
    kept = []
    for url in urls:
        r = client.get(url)
        if r.status_code != 302 or not r.url.startswith(login):
            kept.append(url)
    return kept


def user_without_area(django_user_model):
    """An account with no org unit: every area view must refuse it (403)."""
    return django_user_model.objects.create(username="nobody")


def kept_indicator_codes():
    """The indicators whose every count the maintained figures keep (``Kept``)."""
    from taizhang.indicators.definitions import ALL_INDICATORS

    def kept(figure):
        return figure is None or (
            not figure.estimates() and all(c.kept is not None for c in figure.counts())
        )

    return [i.code for i in ALL_INDICATORS if kept(i.numerator) and kept(i.denominator)]
