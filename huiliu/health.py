"""/healthz: database and Redis status for load balancers and operators."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return f"error: {exc.__class__.__name__}"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "disabled"  # embedded mode: local memory cache, eager Celery
    try:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def healthz(request):
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(v in ("ok", "disabled") for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
