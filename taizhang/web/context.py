"""Template context every page gets: the user's area and role."""

from taizhang.accounts.scope import user_org_code, user_role


def area(request):
    if not request.user.is_authenticated:
        return {}
    code = user_org_code(request.user)
    org = getattr(getattr(request.user, "profile", None), "org_unit", None)
    context = {"user_org_code": code, "user_org": org, "user_role": user_role(request.user)}
    if code:
        from taizhang.corrections.views import waiting_count

        context["corrections_waiting"] = waiting_count(request.user)
    return context
