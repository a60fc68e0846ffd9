"""Celery application.

With REDIS_URL set, Redis is the broker and result backend. Without it (the embedded
default used by `make demo`), settings turn on CELERY_TASK_ALWAYS_EAGER so tasks run inline.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiliu.settings")

app = Celery("huiliu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
