"""The tracking redirect ``/t/<code>``: answer fast, record the click, never lose it.

Hot path, once the link is cached: no database query — the link from this process's memory,
one Redis round trip (the burst count and the ``XADD`` in one script). Unknown codes get the
product's 404 page and record nothing.

Two doors to the same answer (``_answer``):

* ``track_redirect`` — the Django view (the URLconf's route, the test client, any server that
  runs the project's full stack);
* ``track_redirect_wsgi`` — the same redirect straight from the WSGI environ, in front of
  Django's handler (``huiliu/wsgi.py``, ``settings.WSGI_FAST_PATHS``). A 302 needs none of the
  site's middleware — no session, CSRF token, language, CSP or frame policy applies to an
  empty redirect — and skipping them halves the redirect's CPU time. It keeps what does apply:
  ``ALLOWED_HOSTS``, the HTTPS redirect, and SecurityMiddleware's headers (HSTS, nosniff,
  referrer and opener policies), computed by SecurityMiddleware itself. Anything it does not
  handle plainly (another method, a malformed or unknown code, plain http under
  ``SECURE_SSL_REDIRECT``, a bad host) it declines *before* recording, and Django answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core import signals
from django.http import Http404, HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.middleware.security import SecurityMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from exchange import conf
from exchange.services import clicks, tracking
from exchange.services.clicks import Click
from exchange.visitors import VISITOR_COOKIE

log = logging.getLogger(__name__)
VISITOR_COOKIE_AGE = 365 * 24 * 3600
_CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _client_ip(meta: dict) -> str:
    header = conf.client_ip_header()
    if header and meta.get(header):
        # The right-most value: the address our own proxy saw and appended. Values to its left
        # come from the client (X-Forwarded-For can be prepended to at will).
        return meta[header].split(",")[-1].strip()
    return meta.get("REMOTE_ADDR", "")


def _answer(entry: tracking.LinkEntry, meta: dict, cookie: str | None, method: str) -> HttpResponse:
    """Record the click and build its 302 (with the visitor's cookie when it is new)."""
    click: Click = clicks.click_record(
        entry=entry,
        method=method,
        user_agent=meta.get("HTTP_USER_AGENT", ""),
        ip=_client_ip(meta),
        cookie=cookie,
        referer=meta.get("HTTP_REFERER", ""),
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


@require_safe  # GET and HEAD (a HEAD is answered like a GET, and flagged)
def track_redirect(request: HttpRequest, code: str) -> HttpResponse:
    entry = tracking.link_entry(code)
    if entry is None:
        raise Http404
    return _answer(entry, request.META, request.COOKIES.get(VISITOR_COOKIE), request.method)


# --- the WSGI door ----------------------------------------------------------------------------
class _Environ:
    """What SecurityMiddleware asks of a request, read from the environ."""

    def __init__(self, environ: dict) -> None:
        self.META = environ
        self.path = environ.get("PATH_INFO", "")

    def is_secure(self) -> bool:
        header = settings.SECURE_PROXY_SSL_HEADER
        if header:
            value = self.META.get(header[0])
            if value is not None:
                return value.split(",", 1)[0].strip() == header[1]
        return self.META.get("wsgi.url_scheme") == "https"


_security = SecurityMiddleware(lambda request: None)


def _host_allowed(environ: dict) -> bool:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def track_redirect_wsgi(environ: dict, start_response: Callable) -> Iterable[bytes] | None:
    """Answer ``GET|HEAD /t/<code>`` for a known code straight from the environ; ``None`` when
    Django should answer instead (nothing has been recorded then)."""
    method = environ.get("REQUEST_METHOD")
    path = environ.get("PATH_INFO", "")
    code = path[3:]
    if method not in ("GET", "HEAD") or not path.startswith("/t/") or not 8 <= len(code) <= 16:
        return None
    if not _CODE_CHARS.issuperset(code) or not _host_allowed(environ):
        return None
    request = _Environ(environ)
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None  # Django's SecurityMiddleware sends it to https first
    # Django's request signals, as its handler sends them, before any database access (the link
    # lookup may miss the cache): connections past their age or broken are closed first.
    signals.request_started.send(sender=None, environ=environ)
    try:
        entry = tracking.link_entry(code)
        if entry is None:
            return None  # the product's 404 page
        cookie = parse_cookie(environ.get("HTTP_COOKIE", "")).get(VISITOR_COOKIE) if "HTTP_COOKIE" in environ else None
        response = _security.process_response(request, _answer(entry, environ, cookie, method))
    except Exception:
        # Never a bare 500 from in front of Django: log it, and let Django answer the request
        # through its own view, error handling and logging. A failure comes from recording the
        # click (which writes or raises as a whole, so nothing was stored) or the link lookup;
        # building the 302 after it is plain header work.
        log.exception("tracking redirect fast path failed for /t/%s; handing over to Django", code)
        return None
    finally:
        signals.request_finished.send(sender=None)
    headers = [*response.items(), *(("Set-Cookie", c.OutputString()) for c in response.cookies.values())]
    headers.append(("Content-Length", "0"))
    start_response("302 Found", headers)
    return [b""]


@csrf_exempt  # Stripe signs the request; there is no session or form to protect
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events (``payment_intent.succeeded``, ``payment_intent.payment_failed``,
    ``charge.refunded``): the signature is checked with STRIPE_WEBHOOK_SECRET — a bad one is a
    400 and changes nothing — and each event id is applied once (a replay answers 200)."""
    from exchange import stripe_client
    from exchange.services import stripe_sync

    if len(request.body) > 512 * 1024:
        return HttpResponse("too large", status=413, content_type="text/plain")
    try:
        event = stripe_client.webhook_event(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except ValueError:
        return HttpResponse("bad signature", status=400, content_type="text/plain")
    outcome = stripe_sync.stripe_event_handle(event=event)
    return HttpResponse(outcome, status=200, content_type="text/plain")
