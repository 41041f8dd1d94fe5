"""Managing accounts: every change goes through one of these functions, which check, write
and audit in one place. The users page, ``taizhang users`` and its import all call them.

Rules:

- A user name is normalised (NFKC, surrounding spaces removed) when the account is made;
  it may hold letters, digits and ``@ . + - _`` only (no spaces or control characters),
  and may not differ from an existing name only by upper/lower case or character width.
- A role goes with a level: a county administrator with a county (or a unit above one),
  a township statistician with a township, a village worker with a village.
- A password must pass ``AUTH_PASSWORD_VALIDATORS`` (the same check everywhere).
- An account is never deleted: deactivating it is a recorded state (``is_active``), which
  ends its sessions and refuses its logins; reactivating it undoes that.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from taizhang.accounts import lockout
from taizhang.accounts.models import Profile, Role
from taizhang.audit.actions import record as audit
from taizhang.orgunits.models import OrgUnit

# The role names of the command line and the users file.
# Django's own Chinese catalogue has not followed its minimum-length message (its
# placeholder changed to %d): the message is given here, and in Taizhang's catalogue.
DJANGO_MESSAGES = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        10,
    ),
)

ROLE_NAMES = {
    "county": Role.COUNTY_ADMIN,
    "township": Role.TOWNSHIP_STATISTICIAN,
    "village": Role.VILLAGE_WORKER,
}
SHORT_NAMES = {role: name for name, role in ROLE_NAMES.items()}
# The org-unit levels each role may hold (1 province … 5 village).
ROLE_LEVELS = {
    Role.COUNTY_ADMIN: (1, 2, 3),
    Role.TOWNSHIP_STATISTICIAN: (4,),
    Role.VILLAGE_WORKER: (5,),
}
NAME_LENGTH = 150


class AccountError(Exception):
    """A refused change: ``field`` names what is wrong (``username``, ``role``, ``org``,
    ``password`` or '' for the request as a whole); the message is for people."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Acting:
    """Who makes a change, and from where (``cli`` or an address)."""

    user: object
    source: str


# ---------------------------------------------------------------------------
# Checks


def normalise_username(raw: str) -> str:
    """NFKC, without surrounding spaces: ``' ｖｉｃｔｉｍ '`` → ``'victim'``."""
    return unicodedata.normalize("NFKC", raw.strip()).strip()


def fold(name: str) -> str:
    """What two names that differ only by case or width have in common."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_username(raw: str, *, exclude_pk: int | None = None) -> str:
    """The normalised name for a new account; ``AccountError`` when it cannot be one."""
    name = normalise_username(raw)
    if not name:
        raise AccountError("username", _("Give a user name."))
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in name):
        raise AccountError(
            "username", _("A user name may not hold spaces, tabs or other control characters.")
        )
    if len(name) > NAME_LENGTH:
        raise AccountError(
            "username", _("A user name has at most %(n)d characters.") % {"n": NAME_LENGTH}
        )
    try:
        UnicodeUsernameValidator()(name)
    except ValidationError:
        raise AccountError(
            "username",
            _("A user name may hold letters, digits and @ . + - _ only, not %(name)s.")
            % {"name": name},
        ) from None
    User = get_user_model()
    others = User._default_manager.exclude(pk=exclude_pk) if exclude_pk else User._default_manager
    folded = fold(name)
    for existing in others.values_list("username", flat=True).iterator():
        if existing == name:
            raise AccountError(
                "username", _("There is already an account named %(name)s.") % {"name": name}
            )
        if fold(existing) == folded:
            raise AccountError(
                "username",
                _(
                    "%(name)s differs from the existing account %(existing)s only by "
                    "upper/lower case or character width: choose another name."
                )
                % {"name": name, "existing": existing},
            )
    return name


def role_from_name(text: str) -> str:
    """``county``/``township``/``village`` (or the role's code) → the role."""
    value = text.strip().lower()
    if value in ROLE_NAMES:
        return ROLE_NAMES[value]
    if value in Role.values:
        return Role(value)
    raise AccountError(
        "role",
        _("The role must be county, township or village, not %(value)s.")
        % {"value": text or _("(empty)")},
    )


def check_org(role: str, code: str, *, within: str | None = None) -> OrgUnit:
    """The org unit ``code`` for an account of ``role``; inside ``within`` when given."""
    code = code.strip()
    org = OrgUnit.objects.filter(code=code).first() if code else None
    if org is None or (within is not None and not code.startswith(within)):
        raise AccountError(
            "org",
            _("%(code)s is not an org unit of the register.") % {"code": code or _("(empty)")}
            if within is None
            else _("%(code)s is not an org unit of your area.") % {"code": code or _("(empty)")},
        )
    if org.level not in ROLE_LEVELS[role]:
        needs = {
            Role.COUNTY_ADMIN: _("a county (or a unit above one)"),
            Role.TOWNSHIP_STATISTICIAN: _("a township"),
            Role.VILLAGE_WORKER: _("a village"),
        }[role]
        raise AccountError(
            "org",
            _("%(role)s accounts belong to %(needs)s; %(code)s %(name)s is not one.")
            % {"role": Role(role).label, "needs": needs, "code": org.code, "name": org.name},
        )
    return org


def check_password(password: str, user) -> None:
    """``AccountError`` with every validator's sentence when the password is too weak."""
    if not password:
        raise AccountError("password", _("Give a password."))
    try:
        password_validation.validate_password(password, user)
    except ValidationError as e:
        raise AccountError("password", " ".join(e.messages)) from None


# ---------------------------------------------------------------------------
# Changes


def _audit(action: str, user, acting: Acting, **detail) -> None:
    profile = getattr(user, "profile", None)
    audit(
        action,
        user=acting.user,
        object_type="user",
        object_id=user.pk,
        org_code=profile.org_unit_id if profile else "",
        source=acting.source,
        username=user.username,
        **detail,
    )


def create_user(
    username: str,
    role: str,
    org_code: str,
    password: str,
    *,
    acting: Acting,
    within: str | None = None,
    **detail,
):
    """Make an account (checked as the module says) and audit it; ``within``: the org
    unit the new account must lie under (the administrator's own)."""
    User = get_user_model()
    name = check_username(username)
    role = role_from_name(role)
    org = check_org(role, org_code, within=within)
    check_password(password, User(username=name))
    with transaction.atomic():
        user = User(username=name)
        user.set_password(password)
        user.save()
        Profile.objects.create(user=user, org_unit=org, role=role)
        _audit("user_create", user, acting, role=str(role), **detail)
    return user


def deactivate_user(user, *, acting: Acting) -> bool:
    """Refuse the account's logins and end its sessions; False if it was inactive already."""
    if acting.user is not None and acting.user.pk == user.pk:
        raise AccountError("", _("You cannot deactivate your own account."))
    if not user.is_active:
        return False
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        _audit("user_deactivate", user, acting)
    return True


def reactivate_user(user, *, acting: Acting) -> bool:
    if user.is_active:
        return False
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        _audit("user_reactivate", user, acting)
    return True


def reset_password(user, password: str, *, acting: Acting) -> None:
    """Set a new password (checked), which also ends the account's sessions and lock."""
    check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        lockout.unlock(user)
        _audit("password_reset", user, acting)


def password_changed(user, *, source: str) -> None:
    """Audit a user's change of their own password (the form has set it)."""
    _audit("password_change", user, Acting(user, source))
