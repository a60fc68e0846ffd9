"""The project's URLs plus ``/bench/empty`` — a bare Django view returning an empty 200, the
baseline served by the same server, through the same middleware, in the same run."""

from django.http import HttpResponse
from django.urls import include, path


def empty(request):
    return HttpResponse(b"")


urlpatterns = [path("bench/empty", empty), path("", include("huiliu.urls"))]
