"""Logging in and out, with lock-out after repeated failures."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang import clock
from taizhang.accounts.decorators import public_view
from taizhang.accounts.models import LoginLock
from taizhang.audit.actions import record as audit
from taizhang.audit.actions import request_source


@public_view
def login(request):
    form = AuthenticationForm(request, data=request.POST or None)
    locked = False
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        lock, _created = LoginLock.objects.get_or_create(username=username)
        now = clock.now()
        if lock.locked_until and lock.locked_until > now:
            locked = True
            form = AuthenticationForm(request)
        elif form.is_valid():
            lock.failures, lock.locked_until = 0, None
            lock.save()
            auth.login(request, form.get_user())
            audit("login", user=form.get_user(), source=request_source(request))
            target = request.POST.get("next") or request.GET.get("next") or "/"
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = "/"
            return redirect(target)
        else:
            lock.failures += 1
            if lock.failures >= settings.TAIZHANG_LOGIN_MAX_FAILURES:
                lock.locked_until = now + dt.timedelta(minutes=settings.TAIZHANG_LOGIN_LOCK_MINUTES)
                lock.failures = 0
                locked = True
            lock.save()
            audit("login_failed", source=request_source(request), username=username)
    message = (
        _("Too many failed logins: this account is locked for %(minutes)d minutes.")
        % {"minutes": settings.TAIZHANG_LOGIN_LOCK_MINUTES}
        if locked
        else ""
    )
    return render(
        request,
        "accounts/login.html",
        {"form": form, "locked_message": message, "next": request.GET.get("next", "")},
        status=403 if locked else 200,
    )


@public_view
@require_POST
def logout(request):
    auth.logout(request)
    return redirect("login")
