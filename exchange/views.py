"""The tracking redirect ``/t/<code>``: answer fast, record the click, never lose it.

Hot path, once the link is cached: no database query — one cache read for the link, one
cache increment for the burst counter, one ``XADD``. Unknown codes get the product's 404 page
and record nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from exchange import conf
from exchange.services import clicks, tracking
from exchange.visitors import VISITOR_COOKIE

VISITOR_COOKIE_AGE = 365 * 24 * 3600


def _client_ip(request: HttpRequest) -> str:
    header = conf.client_ip_header()
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


@require_safe  # GET and HEAD (a HEAD is answered like a GET, and flagged)
def track_redirect(request: HttpRequest, code: str) -> HttpResponse:
    entry = tracking.link_entry(code)
    if entry is None:
        raise Http404
    click = clicks.click_record(
        entry=entry,
        method=request.method,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ip=_client_ip(request),
        cookie=request.COOKIES.get(VISITOR_COOKIE),
        referer=request.META.get("HTTP_REFERER", ""),
    )
    # The destination was validated (https) and encoded as a URI when the link was written: no
    # need for HttpResponseRedirect's checks on every click. no-store: every click must reach us.
    response = HttpResponse(status=302, headers={"Location": click.location, "Cache-Control": "no-store"})
    if click.visitor.set_cookie:
        response.set_cookie(
            VISITOR_COOKIE,
            click.visitor.id,
            max_age=VISITOR_COOKIE_AGE,
            path="/t/",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response
