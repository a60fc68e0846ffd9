"""The schema as a contract: the SDL committed at the repository root (``schema.graphql``) is
what clients integrate against, so every change to it is visible in review.

* ``sdl()`` prints the code's schema.
* ``drift()`` is the unified diff between the committed SDL and the code's (empty: no drift).
* ``breaking()`` lists the changes from the committed SDL to the code's that would break a
  client (graphql-core's ``find_breaking_changes``: a type or field removed, an argument made
  required, a type changed …), minus the ones acknowledged in ``schema.breaking``.

A field is retired by deprecation first (``deprecation_reason=`` in graphene, ``@deprecated``
in the SDL), which is not breaking; removing it later is, and needs a line in
``schema.breaking`` saying why — written by ``manage.py schema_sdl --write --acknowledge
"<reason>"`` and reviewed with the SDL diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from django.conf import settings
from django.utils import translation
from graphql import build_schema, find_breaking_changes, print_schema

SDL_PATH = Path(settings.BASE_DIR) / "schema.graphql"
ACKS_PATH = Path(settings.BASE_DIR) / "schema.breaking"


def sdl() -> str:
    """The code's SDL, in English (enum descriptions come from translated choice labels)."""
    from api.schema import schema

    with translation.override("en"):
        return print_schema(schema.graphql_schema).rstrip("\n") + "\n"


def committed() -> str:
    return SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""


def drift(current: str | None = None) -> str:
    current = sdl() if current is None else current
    return "".join(
        difflib.unified_diff(
            committed().splitlines(keepends=True),
            current.splitlines(keepends=True),
            fromfile="schema.graphql (committed)",
            tofile="schema.graphql (code)",
        )
    )


def describe(change) -> str:
    return f"{change.type.name}: {change.description}"


def acknowledged() -> set[str]:
    """Breaking changes acknowledged in ``schema.breaking`` (``TYPE: description  # reason``)."""
    if not ACKS_PATH.exists():
        return set()
    out = set()
    for line in ACKS_PATH.read_text(encoding="utf-8").splitlines():
        entry = line.split("  # ", 1)[0].strip()
        if entry and not entry.startswith("#"):
            out.add(entry)
    return out


def breaking(old_sdl: str | None = None, new_sdl: str | None = None) -> list[str]:
    """Unacknowledged breaking changes from ``old_sdl`` (the committed SDL) to ``new_sdl``
    (the code's), described the way ``schema.breaking`` records them."""
    old_sdl = committed() if old_sdl is None else old_sdl
    new_sdl = sdl() if new_sdl is None else new_sdl
    if not old_sdl.strip():
        return []
    changes = find_breaking_changes(build_schema(old_sdl), build_schema(new_sdl))
    known = acknowledged()
    return [d for d in (describe(c) for c in changes) if d not in known]


def acknowledge(descriptions: list[str], reason: str) -> None:
    with ACKS_PATH.open("a", encoding="utf-8") as handle:
        for description in descriptions:
            handle.write(f"{description}  # {reason}\n")
