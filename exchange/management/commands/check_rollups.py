"""``manage.py check_rollups [--since YYYY-MM-DD] [--until YYYY-MM-DD]``: recount the click
rollups from the stored events and list every leg and day where they disagree; exits 1 when
any does (for a cron job or a deploy check), 0 when all agree."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exchange.services.rollup_check import rollups_recount


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("Give a day as YYYY-MM-DD, not %(value)r.") % {"value": value}) from None


class Command(BaseCommand):
    help = "Recount the click rollups from the stored events; exit 1 on any difference."

    def add_arguments(self, parser):
        parser.add_argument("--since", default=None, help="first day checked (YYYY-MM-DD, Asia/Shanghai)")
        parser.add_argument("--until", default=None, help="last day checked (YYYY-MM-DD)")

    def handle(self, *args, since, until, **options):
        differences = rollups_recount(since=since and _day(since), until=until and _day(until))
        for d in differences:
            self.stdout.write(
                _("leg %(leg)d, %(day)s, %(metric)s: rollups %(rollup)d, events %(events)d")
                % {
                    "leg": d.leg_id,
                    "day": d.day.isoformat(),
                    "metric": d.metric,
                    "rollup": d.rollup,
                    "events": d.events,
                }
            )
        if differences:
            self.stderr.write(
                _("%(n)d differences between the rollups and the stored events.") % {"n": len(differences)}
            )
            raise SystemExit(1)
        self.stdout.write(_("The click rollups agree with the stored events."))
