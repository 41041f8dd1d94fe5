"""Logging in and out (with lock-out, see ``lockout``), changing one's own password, and the
users page where county administrators manage the accounts of their own subtree."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang.accounts import actions, lockout
from taizhang.accounts.decorators import account_view, county_admin_view, public_view
from taizhang.accounts.forms import NewPasswordFields, UserCreateForm, UserFilterForm
from taizhang.accounts.models import Profile
from taizhang.accounts.scope import org_units_for, user_org_code
from taizhang.audit.actions import record as audit
from taizhang.audit.actions import request_source
from taizhang.orgunits.models import prefix_range

USERS_PER_PAGE = 100


def _locked_message() -> str:
    return _("Too many failed logins: this account is locked for %(minutes)d minutes.") % {
        "minutes": settings.TAIZHANG_LOGIN_LOCK_MINUTES
    }


def _login_audit(action: str, request, attempt: lockout.Attempt, typed: str, **detail) -> None:
    """A login's audit entry; about the account the name reaches, when it reaches one."""
    user = attempt.user
    profile = getattr(user, "profile", None) if user is not None else None
    audit(
        action,
        object_type="user" if user is not None else "",
        object_id=user.pk if user is not None else "",
        org_code=profile.org_unit_id if profile else "",
        source=request_source(request),
        username=typed[:200],
        **detail,
    )


def _rules() -> list[str]:
    """The password policy in force, in the page's language."""
    return password_validation.password_validators_help_texts()


@public_view
def login(request):
    form = AuthenticationForm(request, data=request.POST or None)
    locked = False
    if request.method == "POST":
        typed = request.POST.get("username", "")
        attempt = lockout.begin(typed, request_source(request))
        if attempt.refused:
            locked = True
            form = AuthenticationForm(request)
            _login_audit("login_refused", request, attempt, typed)
        elif form.is_valid():
            lockout.succeeded(attempt)
            auth.login(request, form.get_user())
            audit("login", user=form.get_user(), source=request_source(request))
            target = request.POST.get("next") or request.GET.get("next") or "/"
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = "/"
            return redirect(target)
        else:
            _login_audit("login_failed", request, attempt, typed)
            if lockout.failed(attempt):
                locked = True
                _login_audit("login_locked", request, attempt, typed, keys=attempt.locked_by_this)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "locked_message": _locked_message() if locked else "",
            "next": request.GET.get("next", ""),
        },
        status=403 if locked else 200,
    )


@public_view
@require_POST
def logout(request):
    auth.logout(request)
    return redirect("login")


@account_view
def password_change(request: HttpRequest) -> HttpResponse:
    """A user changes their own password: the old one, and a new one that passes the policy."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        auth.update_session_auth_hash(request, user)  # this session stays; the others end
        actions.password_changed(user, source=request_source(request))
        messages.success(request, _("Your password has been changed."))
        return redirect("home")
    return render(
        request, "accounts/password_change.html", {"form": form, "password_help": _rules()}
    )


# ---------------------------------------------------------------------------
# The users page: county administrators, over their own subtree


def _profiles_for(user):
    root = user_org_code(user)
    low, high = prefix_range(root)
    return Profile.objects.filter(org_unit__gte=low, org_unit__lt=high).select_related(
        "user", "org_unit"
    )


def _get_profile_for_admin(request: HttpRequest, pk: int) -> Profile:
    """The account ``pk`` if it lies in the administrator's subtree; 404 otherwise."""
    try:
        return _profiles_for(request.user).get(user_id=pk)
    except Profile.DoesNotExist:
        raise Http404 from None


def _acting(request: HttpRequest) -> actions.Acting:
    return actions.Acting(request.user, request_source(request))


def _add_errors(form, error: actions.AccountError, fields: dict[str, str]) -> None:
    form.add_error(fields.get(error.field), error.message)


@county_admin_view
def users(request: HttpRequest) -> HttpResponse:
    form = UserFilterForm(request.GET or None)
    profiles = _profiles_for(request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if not data.get("inactive"):
        profiles = profiles.filter(user__is_active=True)
    if data.get("q"):
        profiles = profiles.filter(user__username__icontains=data["q"].strip())
    profiles = profiles.order_by("org_unit_id", "user__username")
    page = Paginator(profiles, USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/users.html", {"form": form, "page": page})


@county_admin_view
def user_new(request: HttpRequest) -> HttpResponse:
    units = list(org_units_for(request.user).only("code", "name", "level"))
    form = UserCreateForm(request.POST or None, org_units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = actions.create_user(
                data["username"],
                data["role"],
                data["org"],
                data["password1"],
                acting=_acting(request),
                within=user_org_code(request.user),
            )
        except actions.AccountError as e:
            _add_errors(
                form,
                e,
                {"username": "username", "role": "role", "org": "org", "password": "password1"},
            )
        else:
            messages.success(
                request, _("The account %(name)s has been made.") % {"name": user.username}
            )
            return redirect("user", pk=user.pk)
    return render(request, "accounts/user_new.html", {"form": form, "password_help": _rules()})


@county_admin_view
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _get_profile_for_admin(request, pk)
    form = NewPasswordFields(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if profile.user_id == request.user.pk:
                raise actions.AccountError(
                    "", _("Change your own password on the page for it, with your old password.")
                )
            actions.reset_password(
                profile.user, form.cleaned_data["password1"], acting=_acting(request)
            )
        except actions.AccountError as e:
            _add_errors(form, e, {"password": "password1"})
        else:
            messages.success(
                request,
                _("The password of %(name)s has been reset; give it to them in person.")
                % {"name": profile.user.username},
            )
            return redirect("user", pk=pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "profile": profile,
            "account": profile.user,
            "form": form,
            "locked_until": lockout.locked_until(profile.user),
            "is_self": profile.user_id == request.user.pk,
            "password_help": _rules(),
        },
    )


@county_admin_view
@require_POST
def user_active(request: HttpRequest, pk: int, state: str) -> HttpResponse:
    """Deactivate (``state`` ``off``) or reactivate (``on``) an account of the subtree."""
    profile = _get_profile_for_admin(request, pk)
    try:
        if state == "off":
            actions.deactivate_user(profile.user, acting=_acting(request))
            messages.success(
                request,
                _("%(name)s has been deactivated: they can no longer log in.")
                % {"name": profile.user.username},
            )
        else:
            actions.reactivate_user(profile.user, acting=_acting(request))
            messages.success(
                request, _("%(name)s has been reactivated.") % {"name": profile.user.username}
            )
    except actions.AccountError as e:
        messages.error(request, e.message)
    return redirect(reverse("user", kwargs={"pk": pk}))
