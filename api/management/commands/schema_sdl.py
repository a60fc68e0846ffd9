"""Print, check or write the committed GraphQL SDL (schema.graphql) — see api/contract.py.

python manage.py schema_sdl            # print the code's SDL
python manage.py schema_sdl --check    # exit 1 on drift or an unacknowledged breaking change
python manage.py schema_sdl --write    # update schema.graphql (refused on breaking changes)
python manage.py schema_sdl --write --acknowledge "why clients may break"
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from api import contract


class Command(BaseCommand):
    help = "Print, check or write the committed GraphQL schema (schema.graphql)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--check", action="store_true", help="fail when schema.graphql differs from the code")
        group.add_argument("--write", action="store_true", help="write the code's SDL to schema.graphql")
        parser.add_argument("--acknowledge", metavar="REASON", help="record the breaking changes with this reason")

    def handle(self, *args, check=False, write=False, acknowledge=None, **options):
        current = contract.sdl()
        if not check and not write:
            self.stdout.write(current, ending="")
            return
        broken = contract.breaking(new_sdl=current)
        if check:
            problems = []
            if broken:
                problems.append("Breaking changes not acknowledged in schema.breaking:\n  " + "\n  ".join(broken))
            diff = contract.drift(current)
            if diff:
                problems.append(diff + "\nschema.graphql is out of date: run `python manage.py schema_sdl --write`.")
            if problems:
                raise CommandError("\n\n".join(problems))
            self.stdout.write("schema.graphql matches the code.")
            return
        if broken and not acknowledge:
            raise CommandError(
                "Breaking changes (deprecate first, or pass --acknowledge REASON):\n  " + "\n  ".join(broken)
            )
        if broken:
            contract.acknowledge(broken, acknowledge)
        contract.SDL_PATH.write_text(current, encoding="utf-8")
        self.stdout.write(f"Wrote {contract.SDL_PATH.name} ({len(current.splitlines())} lines).")
