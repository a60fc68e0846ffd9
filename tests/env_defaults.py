"""Environment defaults for the test run, loaded as a plugin (`-p tests.env_defaults`) so they
apply before pytest-django loads the settings.

`make test` exports DATABASE_URL / REDIS_URL for the real PostgreSQL and Redis; run bare,
pytest falls back to the embedded settings (SQLite, local memory cache).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# Tasks run inline unless a test starts a real worker (tests/conftest.py: celery_worker).
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
# The test client and the live server speak plain http; production redirects to https.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Fast hashing in tests only; production keeps PBKDF2.
os.environ.setdefault("PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")
