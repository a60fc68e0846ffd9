"""Audit actions in one tense: the workflow's events were stored in the present tense
(``brand.approve``) while every other action was past tense (``brand.approved``). Rename the
stored codes to the ``AuditAction`` values so histories and filters see one vocabulary."""

from django.db import migrations

RENAMED = {
    "brand.approve": "brand.approved",
    "brand.reject": "brand.rejected",
    "brand.suspend": "brand.suspended",
    "brand.reinstate": "brand.reinstated",
    "brand.resubmit": "brand.resubmitted",
}


def _rename(apps, mapping):
    AuditEvent = apps.get_model("partners", "AuditEvent")
    for old, new in mapping.items():
        AuditEvent.objects.filter(action=old).update(action=new)


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0004_audit_action_choices"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
