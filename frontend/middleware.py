"""Remember the language a signed-in person uses the web UI in, so what the platform sends
them later (e-mail about a proposal) is written in it. One UPDATE when it changes, none else."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation


class RememberLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/graphql/"):
            language = translation.get_language_from_request(request)
            # Empty already means the site default: no write for people who never switch.
            stored = user.language or settings.LANGUAGE_CODE
            if language and language != stored:
                get_user_model().objects.filter(pk=user.pk).update(language=language)
                user.language = language
        return response
