"""The embedded default (no REDIS_URL: eager Celery, `make demo`) runs tasks without a broker and
without noise: no kombu "No hostname was supplied" warning on every enqueue (every save)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging, django
django.setup()
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.DEBUG)
from django.conf import settings
from huiliu.celery import app

@app.task
def ping(x):
    return x + 1

assert settings.CELERY_TASK_ALWAYS_EAGER, "embedded mode is eager"
assert ping.delay(1).get() == 2
assert ping.apply_async((2,)).get() == 3
print("WARNINGS:", [m for m in records if "hostname" in m.lower()])
"""


def test_an_eager_task_in_the_embedded_default_logs_no_broker_hostname_warning(tmp_path):
    drop = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(DJANGO_SETTINGS_MODULE="huiliu.settings", DEBUG="1", SECRET_KEY="test", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "WARNINGS: []" in done.stdout, done.stdout + done.stderr
