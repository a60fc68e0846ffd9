"""The project's URLs plus ``/bench/empty`` — a bare Django view returning an empty 200, the
baseline served by the same server, through the same middleware, in the same run — and
``/bench/t/<code>``: the redirect's Django view through the full middleware, as every click went
before the WSGI fast path (``huiliu/wsgi.py``) took ``/t/``."""

from django.http import HttpResponse
from django.urls import include, path, re_path

from exchange.views import track_redirect


def empty(request):
    return HttpResponse(b"")


urlpatterns = [
    path("bench/empty", empty),
    re_path(r"^bench/t/(?P<code>[0-9A-Za-z]{8,16})$", track_redirect),
    path("", include("huiliu.urls")),
]
