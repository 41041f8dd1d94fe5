"""The people pages: searching the register, a person's record, and recording a life event.

Everything is scoped through ``taizhang.accounts.scope``: a person outside the user's
area is not found (404), and never appears in a search. Every view of a person's page
and every event recorded here is written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import (
    get_person_for_user,
    may_see_identity,
    persons_for,
    user_org_code,
)
from taizhang.audit.actions import record_request
from taizhang.imports import fields
from taizhang.imports.events import KINDS
from taizhang.lib import crypto, idnumber
from taizhang.lib.periods import age_on
from taizhang.orgunits.models import OrgUnit
from taizhang.register import actions
from taizhang.register.models import Event, Household, Person
from taizhang.register.timeline import (
    COUPLE_KINDS,
    KIND_ORDER,
    Derived,
    EventFacts,
    State,
    derive,
    state_on,
)
from taizhang.web.forms import (
    DELIVERY_LABELS,
    KIND_LABELS,
    METHOD_LABELS,
    OUTCOME_LABELS,
    SEX_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
    WOMEN_ONLY_KINDS,
    EventForm,
    PersonSearchForm,
)

PER_PAGE = 50
# A search lists at most this many matches: counting them all would cost a scan of the
# county for a one-letter search, and nobody pages through more.
MATCH_LIMIT = 1000

_ID_LIKE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9Xx]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_INITIALS = re.compile(r"[A-Za-z]+")


# ---------------------------------------------------------------------------
# Search


@dataclass(frozen=True)
class Search:
    """What the search box asked for: how it matches (``kind``) and the condition."""

    kind: str  # "" (nothing typed), "exact", "initials" or "contains"
    condition: Q


def parse_search(text: str, *, today: dt.date | None = None) -> Search:
    """What the search box matches, by the shape of what was typed.

    - An ID number (15 or 18 characters): that exact number, through its blind index.
      Only a whole, valid number finds anyone: no partial or "last four digits" search.
    - Digits (or a phone number with ``+ - ( )``): that exact phone number, or household.
    - Latin letters: pinyin initials starting with them (``wxy`` finds 王秀英), or a
      household with that number.
    - Anything with Chinese characters: names containing it.
    - Anything else: a household with that number.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    compact = "".join(text.split())
    if not compact:
        return Search("", Q())
    household_ids = list(Household.objects.filter(number=text).values_list("pk", flat=True))
    by_household = Q(household_id__in=household_ids) if household_ids else Q(pk__in=[])
    if _ID_LIKE.fullmatch(compact):
        try:
            number = idnumber.normalize(compact, today=today)
        except idnumber.IDNumberError:
            return Search("exact", by_household | _phone_filter(compact))
        return Search("exact", Q(id_index=crypto.blind_index(number)) | by_household)
    if _HAN.search(text):
        return Search("contains", Q(name__contains=text) | by_household)
    if _INITIALS.fullmatch(compact):
        low = compact.lower()
        # A range, not LIKE 'wxy%': both SQLite and PostgreSQL answer it from the index.
        high = low[:-1] + chr(ord(low[-1]) + 1)
        return Search("initials", Q(name_initials__gte=low, name_initials__lt=high) | by_household)
    return Search("exact", by_household | _phone_filter(text))


def _phone_filter(text: str) -> Q:
    try:
        phone = fields.phone(text)
    except fields.FieldError:
        return Q(pk__in=[])
    return Q(phone_index=crypto.blind_index(phone, "phone"))


def find_persons(
    user,
    *,
    q: str = "",
    status: str = "",
    sex: str = "",
    village: str = "",
    today: dt.date | None = None,
    limit: int = MATCH_LIMIT,
) -> list[int]:
    """The ids of the first ``limit`` persons in ``user``'s area matching the search, in
    order of pinyin initials (then register number)."""
    search = parse_search(q, today=today)
    persons = persons_for(user).filter(search.condition)
    if status:
        persons = persons.filter(status=status)
    if sex:
        persons = persons.filter(sex=sex)
    if village:
        persons = persons.filter(current_village=village)
    area = user_org_code(user) or ""
    level = "village" if village or len(area) >= 12 else "township" if len(area) > 6 else "county"
    # A name search over a county reads the whole name index (not the table); it stops
    # early, in the index's order, once ``limit`` matches are found, and only those are
    # sorted.
    order = () if search.kind == "contains" and level == "county" else ("name_initials", "id")
    rows = _fetch(
        persons.order_by(*order).values_list("pk", "name_initials")[:limit],
        _sqlite_plan(search.kind, level),
    )
    rows.sort(key=lambda row: (row[1], row[0]))
    return [pk for pk, _ in rows]


def _sqlite_plan(kind: str, level: str) -> str:
    """The index SQLite should search with, as an ``INDEXED BY`` clause ('' to let it choose).

    SQLite keeps no statistics of value ranges, so it takes the code range of a whole
    county for a thin slice and reads the county row by row through the village index
    (0.7 s for 540,000 persons); and it walks the initials index of the whole county for
    the sake of its order when one village is asked for. PostgreSQL, which measures its
    columns, plans these itself.
    """
    if kind == "exact":
        return ""  # a blind index or a household: a handful of rows whatever the area
    if level == "village" or kind == "contains":
        # (current_village, name, name_initials): all a name search reads, so for a
        # county too one pass over this index is cheaper than one over the table.
        return f"INDEXED BY {_quote('person_area_name')}"
    return f"INDEXED BY {_quote(_index_of('name_initials'))}"  # read in order, stop early


def _fetch(rows: QuerySet, plan: str) -> list[tuple]:
    if not plan or connection.vendor != "sqlite":
        return [tuple(row) for row in rows]
    sql, params = rows.query.sql_with_params()
    table = _quote(Person._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.replace(f"FROM {table}", f"FROM {table} {plan}", 1), params)
        return cursor.fetchall()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _index_of(column: str) -> str:
    """The name of the one-column index on ``column`` of the person table."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Person._meta.db_table)
    return next(
        name
        for name, c in sorted(constraints.items())
        if c["index"] and c["columns"] == [column] and not c["unique"]
    )


# What a results row reads of a person (person_rows, may_see_identity).
SHOWN = ("name", "sex", "birth_date", "current_village", "status", "id_cipher")


@dataclass
class PersonRow:
    pk: int
    name: str
    sex: str
    age: int
    village: str
    status: str
    status_code: str
    id_number: str
    url: str = ""


def person_rows(user, persons: list[Person], today: dt.date) -> list[PersonRow]:
    """What a results table shows of each person: the ID masked unless the user may see it."""
    names = village_names({p.current_village for p in persons})
    # One reverse() for the table, not one per row (a search lists 50).
    url = reverse("person", args=[0]).removesuffix("0/")
    return [
        PersonRow(
            pk=p.pk,
            url=f"{url}{p.pk}/",
            name=p.name,
            sex=SEX_LABELS.get(p.sex, p.sex),
            age=age_on(p.birth_date, today),
            village=names.get(p.current_village, p.current_village),
            status=STATUS_LABELS.get(p.status, p.status),
            status_code=p.status,
            id_number=_id_shown(user, p),
        )
        for p in persons
    ]


# A results row, built in Python: the template engine costs about 10 µs a variable, and
# a page of 50 rows of 8 values took 9 ms to render that way, against 1.4 ms this way.
_ROW_HTML = (
    '<tr data-person="{}"><td><a href="{}">{}</a></td><td>{}</td><td class="num">{}</td>'
    '<td>{}</td><td>{}</td><td class="idnumber">{}</td></tr>'
)


def rows_html(rows: list[PersonRow]) -> str:
    """The rows of a results table (``web/people/_results.html``), escaped."""
    return format_html_join(
        "\n",
        _ROW_HTML,
        ((r.pk, r.url, r.name, r.sex, r.age, r.village, r.status, r.id_number) for r in rows),
    )


def _id_shown(user, person: Person) -> str:
    try:
        number = crypto.decrypt(person.id_cipher)
    except crypto.DecryptionError:
        return "?"
    return number if may_see_identity(user, person) else idnumber.mask(number)


def village_names(codes) -> dict[str, str]:
    codes = [c for c in codes if c]
    return dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))


SEARCH_FIELDS = ("q", "status", "sex", "village")


def kept_out_of_urls(text: str) -> bool:
    """Whether a search text must never travel in an address, where proxy logs, browser
    history and the Referer header keep it: any text with a digit — an ID number, a phone
    number, any part of one (an ID number's first digits give the birthplace and the birth
    date), or a household number. Names and pinyin initials have none."""
    return any(c.isdigit() for c in text)


@area_view
def search(request: HttpRequest) -> HttpResponse:
    """The people page. The page posts its search box, so that a number typed there never
    travels in an address; a name search is answered at an address of its own as well
    (``?q=王``), to link to and come back to, and an address holding a number is refused.
    With htmx (typing in the search box) only the results are sent."""
    if request.method == "POST":
        params = request.POST
    else:
        params = request.GET
        if kept_out_of_urls(params.get("q", "")):
            return _number_in_address(request)
    today = clock.today()
    form = PersonSearchForm(params or None, user=request.user)
    page: Page | None = None
    rows: list[PersonRow] = []
    more = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
    elif form.is_bound:
        data = None
    else:
        data = {"q": "", "status": "", "sex": "", "village": ""}
    if data is not None:
        # One query for the ids of the first MATCH_LIMIT matches: their number is the
        # paginator's count (no COUNT over the whole area), then one for the page's rows.
        ids = find_persons(
            request.user,
            q=data["q"],
            status=data["status"],
            sex=data["sex"],
            village=data["village"],
            today=today,
            limit=MATCH_LIMIT + 1,
        )
        more = len(ids) > MATCH_LIMIT
        page = Paginator(ids[:MATCH_LIMIT], PER_PAGE).get_page(params.get("page"))
        by_pk = Person.objects.only(*SHOWN).in_bulk(list(page.object_list))
        rows = person_rows(request.user, [by_pk[pk] for pk in page.object_list], today)
    # The search's own address, for a search that may have one: its pages are links.
    # A number's search is paged by posting again.
    address = (
        _search_address(data) if data is not None and not kept_out_of_urls(data["q"]) else None
    )
    if request.method == "POST" and not request.htmx and address is not None:
        return redirect(address)  # a name search: at its own address (the browser GETs it)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "rows_html": rows_html(rows),
        "more": more,
        "match_limit": MATCH_LIMIT,
        "address": address,
        "page_links": _page_links(address, page),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "web/people/_results.html" if partial else "web/people/search.html"
    response = render(request, template, context)
    if request.method == "POST" and request.htmx:
        # The address bar shows the search's address, or the bare page for a number's.
        response["HX-Push-Url"] = address or reverse("people")
    return response


def _search_address(data: dict) -> str:
    query = urlencode({name: data[name] for name in SEARCH_FIELDS if data.get(name)})
    return reverse("people") + (f"?{query}" if query else "")


def _page_links(address: str | None, page: Page | None) -> dict[str, str]:
    """The addresses of the previous and next pages of a search that has an address."""
    if address is None or page is None:
        return {}
    joiner = "&" if "?" in address else "?"
    links = {}
    if page.has_previous():
        links["previous"] = f"{address}{joiner}page={page.previous_page_number()}"
    if page.has_next():
        links["next"] = f"{address}{joiner}page={page.next_page_number()}"
    return links


def _number_in_address(request: HttpRequest) -> HttpResponse:
    """An address asking to search for a number (an old link, a bookmark): no search. The
    browser is sent to the address without it, the other filters kept."""
    sentence = _(
        "Numbers are searched for from the search box only, never from the address: "
        "type the ID, phone or household number in the box."
    )
    if request.htmx:
        return render(request, "web/people/_results.html", {"refused": sentence})
    messages.info(request, sentence)
    kept = {name: request.GET[name] for name in SEARCH_FIELDS[1:] if request.GET.get(name)}
    return redirect(reverse("people") + (f"?{urlencode(kept)}" if kept else ""))


# ---------------------------------------------------------------------------
# A person's record


@dataclass
class Link:
    """A person named on the page: linked when in the user's area, described otherwise."""

    text: str
    pk: int | None = None


@dataclass
class TimelineEntry:
    key: int | None
    kind: str
    label: str
    date: dt.date
    details: list[tuple[str, str | Link]] = field(default_factory=list)
    recorded_at: dt.datetime | None = None
    recorded_by: str = ""
    batch: int | None = None


def derived_state(person: Person, events: list[EventFacts], today: dt.date) -> State:
    """The person's state at the end of today, derived from their events by the timeline
    rules (``taizhang.register.timeline``), exactly as the indicators count it.

    ``events`` are the effective events of the person and of their registered spouses
    (``actions.load_events``): a spouse's death widows the person, and a husband's
    male methods count for his wife.
    """
    pk = person.pk
    spouses = {e.spouse if e.person == pk else e.person for e in events if _couple_of(e, pk)}
    spouses.discard(None)
    facts = actions.load_person_facts([pk, *spouses])
    deaths = {e.person: e.date for e in events if e.kind == "death"}

    def derive_for(who: int, partners) -> Derived:
        own = [e.as_seen_by(who) for e in events if e.person == who or _couple_of(e, who)]
        return derive(
            facts[who],
            own,
            spouse_deaths={s: deaths[s] for s in partners if s in deaths},
            today=today,
        )

    derived = derive_for(pk, spouses)
    state = state_on(facts[pk], derived, today)
    if state.spouse is not None and state.spouse in facts:
        spouse_derived = derive_for(state.spouse, {pk})
        state = state_on(facts[pk], derived, today, spouse_derived=spouse_derived)
    return state


def _couple_of(e: EventFacts, pk: int) -> bool:
    return e.kind in COUPLE_KINDS and pk in (e.person, e.spouse)


def load_person_events(pk: int) -> list[EventFacts]:
    """The effective events of the person and of their registered spouses."""
    events = actions.load_events([pk])
    spouses = {e.spouse if e.person == pk else e.person for e in events if _couple_of(e, pk)}
    spouses.discard(None)
    if not spouses:
        return events
    seen = {e.key for e in events}
    return events + [e for e in actions.load_events(spouses) if e.key not in seen]


def timeline_entries(user, pk: int, events: list[EventFacts]) -> list[TimelineEntry]:
    """The person's own events (and the marriages and divorces naming them), newest first,
    with who recorded each and when."""
    own = [e for e in events if e.person == pk or _couple_of(e, pk)]
    own.sort(key=lambda e: (e.date, KIND_ORDER.get(e.kind, 99), e.key or 0), reverse=True)
    stored = {
        row["pk"]: row
        for row in Event.objects.filter(pk__in=[e.key for e in own]).values(
            "pk",
            "recorded_at",
            "recorded_by_id",
            "batch_id",
            "destination",
            "birth_weight_g",
            "supersedes_id",
        )
    }
    users = {
        u.pk: u.get_full_name() or u.username
        for u in get_user_model().objects.filter(
            pk__in={row["recorded_by_id"] for row in stored.values()} - {None}
        )
    }
    others = {e.child for e in own} | {e.spouse if e.person == pk else e.person for e in own}
    others -= {None, pk}
    links = _links(user, others)
    village_name = village_names({e.village for e in own})
    entries = []
    for e in own:
        row = stored.get(e.key, {})
        details: list[tuple[str, str | Link]] = []
        other = e.spouse if e.person == pk else e.person
        if e.kind in COUPLE_KINDS or e.kind == "widowhood":
            if other is not None and e.kind != "widowhood":
                details.append((_("Spouse"), links[other]))
            elif e.spouse_key:
                details.append((_("Spouse"), _("not in the register")))
        if e.kind == "birth" and e.child is not None:
            details.append((_("Child"), links[e.child]))
            if e.delivery_place:
                details.append((_("Delivery"), str(DELIVERY_LABELS[e.delivery_place])))
            if row.get("birth_weight_g"):
                details.append((_("Weight"), f"{row['birth_weight_g']} g"))
        if e.village:
            details.append((_("Village"), f"{village_name.get(e.village, '')} ({e.village})"))
        if e.kind == "move_out" and row.get("destination"):
            details.append((_("Destination"), row["destination"]))
        if e.method:
            details.append((_("Method"), str(METHOD_LABELS.get(e.method, e.method))))
        if e.outcome:
            details.append((_("Outcome"), str(OUTCOME_LABELS.get(e.outcome, e.outcome))))
        if e.lmp_date:
            details.append((_("Last menstrual period"), e.lmp_date.isoformat()))
        if e.stage:
            details.append((_("Life stage"), str(STAGE_LABELS.get(e.stage, e.stage))))
        if e.findings:
            details.append((_("Findings"), e.findings.replace(";", "; ")))
        if e.reason:
            details.append((_("Reason"), e.reason))
        if row.get("supersedes_id"):
            details.append((_("Corrects event"), f"#{row['supersedes_id']}"))
        entries.append(
            TimelineEntry(
                key=e.key,
                kind=e.kind,
                label=str(KIND_LABELS.get(e.kind, e.kind)),
                date=e.date,
                details=details,
                recorded_at=row.get("recorded_at"),
                recorded_by=users.get(row.get("recorded_by_id"), ""),
                batch=row.get("batch_id"),
            )
        )
    return entries


def _links(user, pks) -> dict[int, Link]:
    """Persons by id: named and linked inside the user's area, anonymous outside it."""
    visible = dict(persons_for(user).filter(pk__in=list(pks)).values_list("pk", "name"))
    return {
        pk: Link(visible[pk], pk) if pk in visible else Link(_("a person outside your area"))
        for pk in pks
    }


def _phone_shown(user, person: Person) -> str:
    if not person.phone_cipher:
        return ""
    try:
        phone = crypto.decrypt(person.phone_cipher)
    except crypto.DecryptionError:
        return "?"
    return phone if may_see_identity(user, person) else "*" * (len(phone) - 4) + phone[-4:]


@area_view
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's record: identity, household, family, derived state today and timeline."""
    user = request.user
    person = get_person_for_user(user, pk)
    record_request(
        request, "person_view", object_type="person", object_id=pk, org_code=person.current_village
    )
    today = clock.today()
    events = load_person_events(pk)
    state = derived_state(person, events, today)
    scoped = persons_for(user)
    members = []
    if person.household_id:
        members = list(
            scoped.filter(household_id=person.household_id)
            .exclude(pk=pk)
            .order_by("birth_date", "id")
        )
    mother = None
    if person.mother_id:
        mother = _links(user, [person.mother_id])[person.mother_id]
    children = list(scoped.filter(mother_id=pk).order_by("birth_date", "id"))
    spouse = None
    if state.spouse is not None:
        spouse = _links(user, [state.spouse])[state.spouse]
    elif state.spouse_key:
        spouse = Link(_("a spouse not in the register"))
    names = village_names(
        {person.current_village, person.village_id, person.hukou_village, state.village}
    )
    kinds = [
        (kind, KIND_LABELS[kind])
        for kind in KINDS
        if not (person.sex == "M" and kind in WOMEN_ONLY_KINDS)
    ]
    context = {
        "person": person,
        "id_number": _id_shown(user, person),
        "phone": _phone_shown(user, person),
        "identity_visible": may_see_identity(user, person),
        "sex": SEX_LABELS.get(person.sex, person.sex),
        "status": STATUS_LABELS.get(state.status, state.status),
        "state": state,
        "village_name": names.get(state.village or person.current_village, ""),
        "registered_village_name": names.get(person.village_id, ""),
        "hukou_village_name": names.get(person.hukou_village, ""),
        "marital": _marital(state),
        "spouse": spouse,
        "methods": [METHOD_LABELS.get(m, m) for m in state.methods],
        "spouse_methods": [METHOD_LABELS.get(m, m) for m in state.spouse_methods],
        "life_stages": [STAGE_LABELS.get(s, s) for s in state.life_stages],
        "household": person.household,
        "members": person_rows(user, members, today),
        "mother": mother,
        "children": person_rows(user, children, today),
        "timeline": timeline_entries(user, pk, events),
        "kinds": kinds,
        "today": today,
    }
    return render(request, "web/people/detail.html", context)


def _marital(state: State) -> str:
    if state.married:
        return _("Married")
    if state.widowed:
        return _("Widowed")
    return _("Not married")


# ---------------------------------------------------------------------------
# Recording an event


@area_view
def record_event(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Record one life event of a person in the user's area, through the register's one
    write path; the register's objections are shown next to the fields they concern."""
    if kind not in KINDS:
        raise Http404
    user = request.user
    person = get_person_for_user(user, pk)
    today = clock.today()
    form = EventForm(request.POST or None, kind=kind, person=person, user=user, today=today)
    if request.method == "POST":
        with transaction.atomic():
            if form.is_valid():
                outcome = actions.record_events(
                    [form.event], new_children=form.children, user=user, today=today
                )
                if outcome.problems:
                    form.add_problems(outcome.problems)
                elif not outcome.counts.get("events"):
                    messages.info(request, _("This event is already in the register."))
                    return redirect("person", pk=pk)
                else:
                    _audit_recorded(request, person, form)
                    messages.success(
                        request,
                        _("%(event)s on %(date)s recorded.")
                        % {"event": KIND_LABELS[kind], "date": form.event.date.isoformat()},
                    )
                    return redirect("person", pk=pk)
    return render(
        request,
        "web/people/record_event.html",
        {
            "person": person,
            "form": form,
            "kind": kind,
            "kind_label": KIND_LABELS[kind],
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


def _audit_recorded(request: HttpRequest, person: Person, form: EventForm) -> None:
    e = form.event
    detail = {"kind": e.kind, "date": e.date.isoformat(), "event": e.key}
    if form.children:
        detail["child"] = next(iter(form.children))
    record_request(
        request,
        "event_record",
        object_type="person",
        object_id=person.pk,
        org_code=person.current_village,
        **detail,
    )
