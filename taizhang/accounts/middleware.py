"""Deny by default: a view that has not declared how it is scoped is refused with 403."""

from django.core.exceptions import PermissionDenied


class RequireScopedViewMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        target = getattr(view_func, "view_class", None) or view_func
        if not getattr(view_func, "taizhang_scoped", False) and not getattr(
            target, "taizhang_scoped", False
        ):
            raise PermissionDenied
        return None
