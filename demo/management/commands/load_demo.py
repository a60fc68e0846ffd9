"""``manage.py load_demo`` — the demo market used by ``make demo`` (safe to run again: it only
creates what is missing, so demo brands edited since keep their changes).

Thin: the work is ``partners.demo.demo_load`` (brands, rules, accounts) and
``matching.demo.demo_history_load`` (a swap history, a trained matcher, fresh
recommendations), then ``exchange.demo.demo_swaps_load`` (proposals in every state) and
``exchange.demo_campaigns.demo_campaigns_load`` (a live and a completed campaign with their
clicks, delivery reports, coupons, and the orders and new members reported back). Prints the demo accounts at the end. It lives in the project-level ``demo`` app
because it spans partners and matching (partners never imports matching).
"""

from __future__ import annotations

import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exchange.demo import demo_swaps_load
from exchange.demo_campaigns import demo_campaigns_load
from matching.demo import demo_history_load
from partners.demo import GENERATED, demo_load
from partners.importer import BrandImportError
from partners.models import BrandStatus, Role


class Command(BaseCommand):
    help = (
        "Load the demo market (seed-article brands, generated brands, rules, blocks, demo accounts), "
        "creating only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--generated", type=int, default=GENERATED, help="how many generated brands (default 300)")

    def handle(self, *args, generated: int, **options):
        try:
            result = demo_load(generated=generated)
        except BrandImportError as exc:  # only if the demo data itself went stale against the validators
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(_("the demo data did not validate; nothing was loaded.")) from None
        history = demo_history_load()
        if history.outcomes:
            self.stdout.write(
                _("Swap history: %(n)d past outcomes; matcher model v%(v)s trained; %(rows)d recommendations.")
                % {"n": history.outcomes, "v": history.trained_version, "rows": history.refreshed_rows}
            )
        swaps = demo_swaps_load()
        if swaps.proposals:
            self.stdout.write(_("Swap proposals: %(n)d in every state.") % {"n": swaps.proposals})
        campaigns = demo_campaigns_load()
        if campaigns.campaigns:
            self.stdout.write(
                _(
                    "Campaigns: %(n)d (one live, one completed) with %(clicks)d tracked clicks, %(orders)d "
                    "reported orders and %(members)d new members."
                )
                % {
                    "n": campaigns.campaigns,
                    "clicks": campaigns.clicks,
                    "orders": campaigns.conversions,
                    "members": campaigns.new_members,
                }
            )
        statuses = ", ".join(f"{BrandStatus(status).label} {count}" for status, count in result.by_status.items())
        self.stdout.write(_("Demo market: %(n)d brands (%(statuses)s).") % {"n": result.brands, "statuses": statuses})
        self.stdout.write("")
        self.stdout.write(_("Demo accounts (password for all: %(pw)s)") % {"pw": result.password})
        for email, role, slug in result.accounts:
            where = f" @ {slug}" if slug else ""
            label = str(Role(role).label if role in Role.values else _("Platform admin"))
            self.stdout.write(f"  {_pad(label, 12)} {email}{where}")
        self.stdout.write(_("Sign in at http://127.0.0.1:8000/ — the admin also at /admin/."))


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)
