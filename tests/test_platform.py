"""Platform plumbing: /healthz, and settings that refuse unsafe production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_and_redis(client, db, settings):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == ("ok" if settings.REDIS_URL else "disabled")


def test_healthz_is_503_when_redis_is_unreachable(client, db):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


def _boot(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "huiliu.settings"}, capture_output=True, text=True,
    )


def test_production_without_secret_key_refuses_to_boot():
    result = _boot({})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("env, debug", [({"DEBUG": "1"}, "True"), ({"SECRET_KEY": "x" * 50}, "False")])
def test_debug_is_off_unless_set(env, debug):
    result = _boot(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == debug
