"""The exchange's own URLs (included at the site root): the tracking redirect and Stripe's webhook."""

from django.urls import path, re_path

from exchange import views

app_name = "exchange"

urlpatterns = [
    # Codes are base62, 8–16 characters: anything else is not a code and gets the 404 page.
    re_path(r"^t/(?P<code>[0-9A-Za-z]{8,16})$", views.track_redirect, name="track"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
