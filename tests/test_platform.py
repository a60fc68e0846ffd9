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
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "huiliu.settings"},
        capture_output=True,
        text=True,
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


def test_production_settings_pass_djangos_deployment_checks():
    # (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never does)
    dropped = ("DEBUG", "SECURE_SSL_REDIRECT", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        SECRET_KEY="k" * 20 + "Zq9!x" * 10, ALLOWED_HOSTS="huiliu.example.com", DJANGO_SETTINGS_MODULE="huiliu.settings"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthz_is_not_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/").status_code == 301
