"""How a view declares its scoping. A view that declares nothing is refused (deny by default).

- ``@area_view``: needs a logged-in user with an org unit; the view scopes itself
  through ``taizhang.accounts.scope``.
- ``@county_admin_view``: the same, for county administrators only.
- ``@account_view``: a logged-in user, area or not (changing one's own password).
- ``@public_view``: no login (the login page, the language switch).
"""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from taizhang.accounts.models import Role
from taizhang.accounts.scope import user_org_code, user_role


def area_view(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_org_code(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.taizhang_scoped = True
    return wrapper


def county_admin_view(view):
    @area_view
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if user_role(request.user) != Role.COUNTY_ADMIN:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def public_view(view):
    view.taizhang_scoped = True
    return view


def account_view(view):
    """Needs a logged-in user, nothing more: pages about the user's own account."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.taizhang_scoped = True
    return wrapper
