"""``manage.py import_brands PATH [--approve]`` — bulk upsert of brands from JSON Lines.

Thin: the work is ``partners.importer.brands_import``; the format is in docs/IMPORT.md.
Exit status 0 when everything was imported, 1 (CommandError) when any line was bad — then
every bad line is listed on stderr as ``line N: field: reason`` and nothing is written.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from huiliu.errors import error_items
from huiliu.jsonl import bad_lines_error, command_source
from partners.importer import BrandImportError, brands_import


class Command(BaseCommand):
    help = "Import brands from a JSON Lines file (one brand per line), upserting by slug."

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON Lines file, UTF-8, one brand object per line ('-' for stdin)")
        parser.add_argument("--approve", action="store_true", help="approve new and pending brands")
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr")

    def handle(self, *args, path: str, approve: bool, quiet: bool, **options):
        source = command_source(path)
        progress = None if quiet else (lambda message: self.stderr.write(message))
        try:
            result = brands_import(path_or_lines=source, approve=approve, progress=progress)
        except BrandImportError as exc:
            raise bad_lines_error(self.stderr, exc) from None
        except ValidationError as exc:
            raise CommandError("; ".join(f"{f}: {m}" for f, _c, m in error_items(exc))) from None
        except DatabaseError as exc:  # e.g. a slug created concurrently; the transaction rolled back
            raise CommandError(_("the database refused the import; nothing was written: %(e)s") % {"e": exc}) from None
        except UnicodeDecodeError as exc:
            raise CommandError(_("the file is not UTF-8 text: %(e)s") % {"e": exc}) from None
        self.stdout.write(
            _(
                "Imported %(brands)s brands (%(created)s new, %(updated)s updated, %(approved)s approved), "
                "%(channels)s channels, %(blocks)s blocks in %(seconds).1fs."
            )
            % {
                "brands": f"{result.brands:,}",
                "created": f"{result.created:,}",
                "updated": f"{result.updated:,}",
                "approved": f"{result.approved:,}",
                "channels": f"{result.channels:,}",
                "blocks": f"{result.blocks:,}",
                "seconds": result.validate_seconds + result.write_seconds,
            }
        )
