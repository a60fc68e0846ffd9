"""Settings for ``benchmarks/redirect.py``'s gunicorn: the project's own, with the URLs of
``benchmarks/redirect_urls.py`` (the project's plus the bare baseline view)."""

from huiliu.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.redirect_urls"
