"""Proposal.slot: the recommendation slot (ranked / explore) a proposal was made from.

Backfill: a proposal made before this field existed had its slot recorded only on its
"proposed" outcome (``exchange:proposal:<pk>:proposed``, read from the recommendation row
while it still existed). That slot is copied onto the proposal and onto the proposal's later
outcomes (accepted, declined, expired, and its campaign's completed) that lost it — the
recommendation row had been removed by then, so they were recorded with a blank slot.
"""

from collections import defaultdict

from django.db import migrations, models

BATCH = 1000


def backfill(apps, schema_editor):
    Outcome = apps.get_model("matching", "Outcome")
    Proposal = apps.get_model("exchange", "Proposal")
    Campaign = apps.get_model("exchange", "Campaign")
    stamped = (
        Outcome.objects.filter(key__startswith="exchange:proposal:", key__endswith=":proposed")
        .exclude(slot="")
        .values_list("key", "slot")
    )
    by_slot = defaultdict(list)
    for key, slot in stamped.iterator(chunk_size=5000):
        by_slot[slot].append(int(key.split(":")[2]))
    for slot, pks in by_slot.items():
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
            Proposal.objects.filter(pk__in=chunk, slot="").update(slot=slot)
            keys = [f"exchange:proposal:{pk}:{kind}" for pk in chunk for kind in ("accepted", "declined", "expired")]
            campaigns = Campaign.objects.filter(proposal_id__in=chunk).values_list("pk", flat=True)
            keys += [f"exchange:campaign:{pk}:completed" for pk in campaigns]
            Outcome.objects.filter(key__in=keys, slot="").update(slot=slot)


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0018_domainevent_settlement_updated_evidence_added"),
        ("matching", "0009_learning"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="slot",
            field=models.CharField(
                blank=True,
                choices=[("ranked", "Ranked"), ("explore", "New")],
                db_default="",
                default="",
                editable=False,
                max_length=8,
                verbose_name="recommendation slot",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
