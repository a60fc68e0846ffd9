"""``manage.py click_partitions [--ensure [--months-ahead N]] [--detach YYYY-MM]``: list the
click events' monthly partitions (PostgreSQL) with their approximate rows and size; create the
missing ones ahead (what the daily beat task does); or detach an ended month so its table can
be dumped to cold storage and dropped."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exchange.services import partitions


def _month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CommandError(_("Give a month as YYYY-MM, not %(value)r.") % {"value": value}) from None


def _message(exc: ValidationError) -> str:
    return "; ".join(m for messages in exc.message_dict.values() for m in messages)


class Command(BaseCommand):
    help = "List, create ahead or detach the click events' monthly partitions (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--ensure", action="store_true", help="create the missing partitions ahead")
        parser.add_argument("--months-ahead", type=int, default=3)
        parser.add_argument("--detach", metavar="YYYY-MM", default=None, help="detach this ended month")

    def handle(self, *args, ensure: bool, months_ahead: int, detach: str | None, **options):
        if not partitions.partitioned():
            self.stdout.write(_("The click events table is not partitioned here (PostgreSQL only)."))
            return
        try:
            if ensure:
                created = partitions.click_partitions_ensure(months_ahead=months_ahead)
                self.stdout.write(_("Created: %(names)s") % {"names": ", ".join(created) or "-"})
            if detach:
                name = partitions.click_partition_detach(month=_month(detach))
                self.stdout.write(
                    _("Detached %(name)s. Archive it (pg_dump -t %(name)s), then DROP TABLE %(name)s.") % {"name": name}
                )
        except ValidationError as exc:
            raise CommandError(_message(exc)) from None
        for p in partitions.click_partitions():
            month = f"{p.month:%Y-%m}" if p.month else _("default")
            state = _("attached") if p.attached else _("detached")
            self.stdout.write(f"{p.name:36s} {month:8s} {state:10s} ~{p.rows:>12,} {p.bytes / 1e6:10.1f} MB")
