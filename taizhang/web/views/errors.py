"""The page shown when a request fails on an error nobody foresaw (HTTP 500).

The details go to a log file (``taizhang.incidents``); the person sees, in their
language, what happened, what to do, and the reference to quote — never a traceback.

A register locked by another writer (a long import) is no fault: wherever it surfaces —
in a view, or in a middleware saving the session — the answer is the 503 page that says
to try again in a minute (``taizhang.web.middleware.busy_response``), not 500.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

from taizhang import incidents
from taizhang.web.middleware import busy_response, is_busy


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if is_busy(error):
        return busy_response(request)
    reference = ""
    if error is not None:
        user = getattr(request, "user", None)
        who = getattr(user, "username", "") or "anonymous"
        reference, _path = incidents.record(
            error, doing=f"{request.method} {request.get_full_path()} by {who}"
        )
    try:
        body = loader.render_to_string("web/500.html", {"reference": reference}, request=None)
    except Exception:  # noqa: BLE001 - the page of last resort must render
        body = f"<h1>500</h1><p>{reference}</p>"
    return HttpResponseServerError(body)
