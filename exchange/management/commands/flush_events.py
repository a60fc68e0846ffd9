"""``manage.py flush_events [--batch-size N] [--follow]``: move queued click events from the Redis
stream into the database now (what the ``events_flush_task`` beat entry does every few
seconds), taking over whatever a dead consumer left pending. ``--follow`` keeps flushing
until interrupted. Prints what it stored and what is still queued."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exchange import streams
from exchange.services import clicks


class Command(BaseCommand):
    help = "Move queued click events from the Redis stream into the database."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None, help="events per transaction")
        parser.add_argument("--follow", action="store_true", help="keep flushing every second until interrupted")

    def handle(self, *args, batch_size, follow: bool, **options):
        if batch_size is not None and not 1 <= batch_size <= 100_000:
            raise CommandError(_("--batch-size must be between 1 and 100000."))
        if not streams.enabled():
            self.stdout.write(_("No event stream is configured: clicks are written straight to the database."))
            return
        while True:
            result = clicks.events_flush(batch_size=batch_size)
            left = streams.backlog()
            self.stdout.write(
                _(
                    "%(read)d events read (%(reclaimed)d taken over), %(stored)d stored, %(dup)d already stored, "
                    "%(bad)d malformed, in %(s).1f s; %(left)d still queued."
                )
                % {
                    "read": result.read,
                    "reclaimed": result.reclaimed,
                    "stored": result.stored,
                    "dup": result.duplicates,
                    "bad": result.malformed,
                    "s": result.seconds,
                    "left": left.length,
                }
            )
            if not follow:
                return
            time.sleep(1)
