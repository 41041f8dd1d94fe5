"""The benefits pages: enrolments (list, detail, verification), the month's payment list,
arrears and the report per township.

Scoped through ``taizhang.benefits.scope``: an enrolment or payment whose village is
outside the user's area answers 404. Everybody in an area sees; only township
statisticians and county administrators propose, verify, run a month and record
payments (403 for a village worker). Every view of an enrolment is audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taizhang import clock
from taizhang.accounts.decorators import area_view
from taizhang.accounts.scope import user_org_code
from taizhang.audit.actions import record_request, request_source
from taizhang.benefits import actions
from taizhang.benefits.forms import (
    ArrearsForm,
    EnrolmentFilterForm,
    MonthForm,
    PaymentForm,
    ProposeForm,
    RejectForm,
    ReportForm,
    WithdrawForm,
    scheme_label,
    scheme_labels,
)
from taizhang.benefits.models import EnrolmentState, yuan
from taizhang.benefits.schemes import month_of, previous_month, schemes
from taizhang.benefits.scope import (
    enrolments_for,
    get_enrolment_for_user,
    get_payment_for_user,
    in_subtree,
    may_verify,
)
from taizhang.errors import UserError
from taizhang.web.views.dashboard import default_period
from taizhang.web.views.people import village_names

PER_PAGE = 50
CYCLE_LABELS = {"monthly": gettext_lazy("Paid monthly"), "yearly": gettext_lazy("Paid yearly")}


def _verifier(request: HttpRequest) -> None:
    if not may_verify(request.user):
        raise PermissionDenied


def _labelled(rows):
    """``rows`` (enrolments or payments) as a list, each given ``scheme_label`` (short, in
    the user's language) and ``village_name`` (from one query of the org units)."""
    rows = list(rows)
    labels = scheme_labels(short=True)
    villages = village_names({r.village for r in rows})
    for r in rows:
        r.scheme_label = labels.get(r.scheme, r.scheme)
        r.village_name = villages.get(r.village, r.village)
    return rows


def _form_errors(form) -> str:
    return "; ".join(e for errs in form.errors.values() for e in errs)


def _verifier_post(request: HttpRequest, form_class, back: str, act, after=None) -> HttpResponse:
    """A verifier's POST of ``form_class``: ``act(cleaned_data, today)`` runs and returns
    the message saying what it did (a refused action shows why instead). Then to
    ``after(cleaned_data)``, or to ``back`` (where an invalid form goes too)."""
    _verifier(request)
    form = form_class(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    data = form.cleaned_data
    try:
        done = act(data, clock.today())
    except UserError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, done)
    return redirect(after(data) if after else back)


@area_view
def home(request: HttpRequest) -> HttpResponse:
    """Schemes with their counts in the user's area, and the filtered list of enrolments."""
    user = request.user
    form = EnrolmentFilterForm(request.GET or None, user=user)
    rows = enrolments_for(user)
    counts = {
        (c["scheme"], c["state"]): c["n"]
        for c in rows.values("scheme", "state").annotate(n=Count("id"))
    }
    overview = [
        {
            "scheme": s,
            "name": scheme_label(s),
            "cycle": CYCLE_LABELS.get(s.cycle, s.cycle),
            **{state: counts.get((s.code, state), 0) for state in EnrolmentState.values},
        }
        for s in schemes().values()
    ]
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        rows = in_subtree(rows, data["org"])
        if data["scheme"]:
            rows = rows.filter(scheme=data["scheme"])
        if data["state"]:
            rows = rows.filter(state=data["state"])
        if data["name"]:
            rows = rows.filter(person__name__contains=data["name"].strip())
    elif form.is_bound:
        rows = rows.none()
    rows = rows.select_related("person").order_by("village", "scheme", "person__name", "pk")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _labelled(page.object_list)
    today = clock.today()
    propose = ProposeForm(
        user=user,
        initial={"month": str(previous_month(month_of(today))), "org": user_org_code(user)},
    )
    return render(
        request,
        "benefits/home.html",
        {
            "form": form,
            "overview": overview,
            "page": page,
            "may_verify": may_verify(user),
            "propose_form": propose,
        },
    )


@area_view
@require_POST
def propose(request: HttpRequest) -> HttpResponse:
    def act(data, today) -> str:
        n = actions.propose(
            data["scheme"], data["org"], data["month"], user=request.user, today=today
        )
        return _("%(n)d candidates proposed.") % {"n": n}

    return _verifier_post(request, ProposeForm, "benefits:home", act)


@area_view
def enrolment(request: HttpRequest, pk: int) -> HttpResponse:
    """An enrolment: the person, the scheme, its state, its journal and its payments."""
    user = request.user
    e = get_enrolment_for_user(user, pk)
    record_request(
        request, "enrolment_view", object_type="enrolment", object_id=pk, org_code=e.village
    )
    found = schemes().get(e.scheme)
    payments = list(e.payments.order_by("period"))
    return render(
        request,
        "benefits/enrolment.html",
        {
            "e": e,
            "scheme_name": scheme_label(found) if found else e.scheme,
            "village_name": village_names([e.village]).get(e.village, ""),
            "journal": [
                (a, "; ".join(str(v) for v in a.detail.values() if v not in ("", None, [], {})))
                for a in e.actions.select_related("by")
            ],
            "payments": payments,
            "owed": yuan(sum(p.amount_fen for p in payments if p.status != "paid")),
            "may_verify": may_verify(user),
            "reject_form": RejectForm(),
            "withdraw_form": WithdrawForm(),
            "payment_form": PaymentForm(),
        },
    )


def _verify(request: HttpRequest, pk: int, act) -> HttpResponse:
    """Run ``act(enrolment, user, today)`` on an enrolment of the area, for a verifier."""
    e = get_enrolment_for_user(request.user, pk)
    _verifier(request)
    try:
        act(e, request.user, clock.today())
    except UserError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, _("Saved."))
    return redirect("benefits:enrolment", pk=pk)


@area_view
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _verify(request, pk, lambda e, u, t: actions.confirm(e, user=u, today=t))


@area_view
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _verify(request, pk, lambda e, u, t: actions.reject(e, user=u, today=t, reason=reason))


@area_view
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    note = request.POST.get("note", "")
    return _verify(request, pk, lambda e, u, t: actions.withdraw(e, user=u, today=t, note=note))


@area_view
def month(request: HttpRequest) -> HttpResponse:
    """The payment list of a month for an org unit, with the outcome form per payment."""
    user = request.user
    today = clock.today()
    form = MonthForm(request.GET or None, user=user, initial={"month": str(month_of(today))})
    payments = []
    if form.is_bound and form.is_valid():
        payments = _labelled(
            actions.payment_list(form.cleaned_data["org"], form.cleaned_data["month"])
        )
    return render(
        request,
        "benefits/month.html",
        {
            "form": form,
            "payments": payments,
            "total": yuan(sum(p.amount_fen for p in payments)),
            "may_verify": may_verify(user),
            "payment_form": PaymentForm(initial={"date": today, "status": "paid"}),
        },
    )


@area_view
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    def act(data, today) -> str:
        r = actions.run_month(data["org"], data["month"], user=request.user, today=today)
        return _("%(payments)d payments listed, %(ended)d enrolments ended.") % {
            "payments": r.payments,
            "ended": sum(r.ended.values()),
        }

    def after(data) -> str:
        return f"{reverse('benefits:month')}?org={data['org']}&month={data['month']}"

    return _verifier_post(request, MonthForm, "benefits:month", act, after)


@area_view
@require_POST
def record_payment(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the outcome of one payment (paid, returned, failed)."""
    p = get_payment_for_user(request.user, pk)
    _verifier(request)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_payment(
                p,
                status=data["status"],
                paid_date=data["date"],
                channel=data["channel"],
                reference=data["reference"],
                user=request.user,
                today=clock.today(),
                source=request_source(request),
            )
        except UserError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Payment recorded."))
    else:
        messages.error(request, _form_errors(form))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("benefits:enrolment", args=[p.enrolment_id])  # none, or another site
    return redirect(back)


@area_view
def arrears(request: HttpRequest) -> HttpResponse:
    """Payments due and not paid, per beneficiary, ended enrolments included."""
    user = request.user
    as_of = clock.today()
    form = ArrearsForm(request.GET or None, user=user, initial={"as_of": as_of})
    rows = []
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {"org": form.root, "as_of": None}
        as_of = data["as_of"] or as_of
        rows = actions.arrears(data["org"], as_of)
        _labelled(e for e, _ps, _total in rows)  # labels the enrolments in place
    return render(
        request,
        "benefits/arrears.html",
        {
            "form": form,
            "rows": [(e, ps, yuan(total)) for e, ps, total in rows],
            "as_of": as_of,
            "total": yuan(sum(t for _e, _ps, t in rows)),
        },
    )


@area_view
def report(request: HttpRequest) -> HttpResponse:
    """The benefits report per township for a period; by default the user's own org unit
    for the last full calendar year (as the dashboard)."""
    user = request.user
    initial = {"org": user_org_code(user), "period": default_period()}
    form = ReportForm(request.GET or initial, user=user)
    rows = []
    if form.is_valid():
        rows = actions.report(form.cleaned_data["org"], form.cleaned_data["period"])
        short, full = scheme_labels(short=True), scheme_labels()
        for r in rows:
            r.scheme_label, r.scheme_title = short[r.scheme], full[r.scheme]
    return render(request, "benefits/report.html", {"form": form, "rows": rows})
