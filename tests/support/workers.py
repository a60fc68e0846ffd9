"""Start and stop real Celery worker processes for reliability tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from huiliu.queues import worker_queues

ROOT = Path(__file__).resolve().parents[2]


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The worker must see the test database pytest-django created, and the real broker."""
    db = connection.settings_dict
    env = dict(os.environ)
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    env.update(extra or {})
    return env


def start_worker(extra_env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.Popen:
    """A `celery worker` (solo pool) on every queue; returns once it reports ready."""
    if not settings.REDIS_URL:
        raise RuntimeError("worker tests need REDIS_URL (run them with `make test`)")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "huiliu",
            "worker",
            "-l",
            "info",
            "-P",
            "solo",
            "-Q",
            worker_queues(),
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=worker_env(extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + timeout
    lines: list[str] = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "ready." in line:
            return proc
    proc.kill()
    raise RuntimeError("celery worker did not start:\n" + "".join(lines[-30:]))


def kill_worker(proc: subprocess.Popen) -> None:
    """SIGKILL: no shutdown handlers, no acknowledgement — a crash."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
