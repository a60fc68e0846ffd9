"""Seed the channel-rate table with the documented defaults (exchange/default_rates.py)."""

from django.db import migrations


def load_default_rates(apps, schema_editor):
    from exchange.default_rates import DEFAULT_RATES, SOURCE
    from exchange.models.rates import unit_for

    ChannelRate = apps.get_model("exchange", "ChannelRate")
    for (channel_type, fmt), cents in DEFAULT_RATES.items():
        ChannelRate.objects.get_or_create(
            channel_type=channel_type,
            format=fmt,
            defaults={"unit": unit_for(fmt).value, "rate_cents": cents, "source": SOURCE},
        )


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [migrations.RunPython(load_default_rates, migrations.RunPython.noop)]
