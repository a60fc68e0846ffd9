"""Least-privilege key scopes: ``events:write`` (conversions, new members, deliveries) and
``webhooks:manage`` are split from ``write``. Keys created before could call every mutation
with ``write``, so they keep that meaning: each gets ``events:write`` too."""

from django.db import migrations


def forwards(apps, schema_editor):
    ApiKey = apps.get_model("partners", "ApiKey")
    for key in ApiKey.objects.all().only("id", "scopes"):
        scopes = list(key.scopes or [])
        if "write" in scopes and "events:write" not in scopes:
            key.scopes = sorted([*scopes, "events:write"])
            key.save(update_fields=["scopes"])


def backwards(apps, schema_editor):
    ApiKey = apps.get_model("partners", "ApiKey")
    for key in ApiKey.objects.all().only("id", "scopes"):
        scopes = [s for s in key.scopes or [] if s not in ("events:write", "webhooks:manage")]
        if scopes != list(key.scopes or []):
            key.scopes = scopes
            key.save(update_fields=["scopes"])


class Migration(migrations.Migration):
    dependencies = [("partners", "0011_audit_action_exchange_events")]
    operations = [migrations.RunPython(forwards, backwards)]
