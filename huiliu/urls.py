from django.contrib import admin
from django.urls import include, path

from huiliu.health import healthz

urlpatterns = [
    path("", include("exchange.urls")),  # /t/<code>, the tracking redirect: first, it is the hot path
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("graphql/", include("api.urls")),
    path("", include("frontend.urls")),
]
