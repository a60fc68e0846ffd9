"""The WSGI application: Django's, behind the fast paths of ``settings.WSGI_FAST_PATHS``.

A fast path is a WSGI callable for one URL prefix (the tracking redirect ``/t/``) that answers
without Django's request and middleware machinery, or returns ``None`` to let Django answer.
Named by dotted path in settings, so this module imports no app.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiliu.settings")
django_application = get_wsgi_application()


def _fast_paths():
    from django.conf import settings
    from django.utils.module_loading import import_string

    return tuple((prefix, import_string(path)) for prefix, path in getattr(settings, "WSGI_FAST_PATHS", {}).items())


_FAST = _fast_paths()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    for prefix, fast in _FAST:
        if path.startswith(prefix):
            answer = fast(environ, start_response)
            if answer is not None:
                return answer
            break
    return django_application(environ, start_response)
