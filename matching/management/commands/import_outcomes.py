"""``manage.py import_outcomes PATH`` — past swaps from JSON Lines, for training the matcher.

Thin: the work is ``matching.services.outcomes_import``. Exit status 1 (CommandError) when
any line is bad — every problem is listed on stderr as ``line N: field: reason`` and nothing
is written.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from huiliu.jsonl import bad_lines_error, command_source
from matching.models import OutcomeKind
from matching.services import OutcomeImportError, outcomes_import


class Command(BaseCommand):
    help = (
        'Import past swaps: one {"id"?, "a", "b", "outcome", "a_new_members", "b_new_members"} object per line; '
        "lines imported before are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON Lines file, UTF-8 ('-' for stdin)")

    def handle(self, *args, path: str, **options):
        source = command_source(path)
        try:
            result = outcomes_import(source=source)
        except OutcomeImportError as exc:
            raise bad_lines_error(self.stderr, exc) from None
        except UnicodeDecodeError as exc:
            raise CommandError(_("the file is not UTF-8 text: %(e)s") % {"e": exc}) from None
        detail = ", ".join(f"{OutcomeKind(k).label} {v:,}" for k, v in sorted(result.by_outcome.items()))
        self.stdout.write(_("Imported %(n)s outcomes (%(detail)s).") % {"n": f"{result.created:,}", "detail": detail})
        if result.skipped:
            self.stdout.write(_("Skipped %(n)s already imported (same swap, same key).") % {"n": f"{result.skipped:,}"})
        if result.backfilled:
            self.stdout.write(
                _("Of those, %(n)s were imported before outcomes had keys; they now have theirs.")
                % {"n": f"{result.backfilled:,}"}
            )
