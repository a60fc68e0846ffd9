"""JSON from outside: nesting limits for any JSON we parse (API bodies, import lines), and
the shared line-error reporting of every `import_*` command.

An import validates every line first; each problem becomes a ``LineError`` printed as
``line N: field: reason``, and if there is any, the import raises ``LineImportError`` and
writes nothing.

Nesting: ``json.loads`` recurses once per level, so a thousand ``[`` raise ``RecursionError``
(an uncaught crash), and a structure just under the recursion limit makes any later code that
walks it (``repr``, ``json.dumps``, a validator) crash instead. No input of ours nests more than
a few levels, so anything deeper than ``MAX_JSON_DEPTH`` is refused as bad input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

MAX_JSON_DEPTH = 32


class JsonTooDeep(ValueError):
    """JSON nested deeper than ``MAX_JSON_DEPTH``."""

    def __init__(self, limit: int = MAX_JSON_DEPTH):
        super().__init__(_("JSON nested more than %(n)d levels deep.") % {"n": limit})


def nesting_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep lists and objects nest in ``value`` (a scalar is 0, ``[]`` is 1), counted
    without recursion; the walk stops as soon as it passes ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """``value`` if it nests at most ``limit`` levels; else ``JsonTooDeep``."""
    if nesting_depth(value, limit) > limit:
        raise JsonTooDeep(limit)
    return value


def loads(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for untrusted text: ``JsonTooDeep`` (a ValueError) for nesting deeper than
    ``limit`` — also where ``json.loads`` itself would hit the recursion limit."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(limit) from None
    return check_depth(value, limit)


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class LineImportError(ValidationError):
    """The file had bad lines; nothing was written. ``problems`` lists each one."""

    def __init__(self, problems: list[LineError]):
        self.problems = problems
        super().__init__([str(p) for p in problems], code="invalid")


def iter_lines(source: str | Path | Iterable[str]) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) for a path or any iterable of lines."""
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8-sig") as fh:  # tolerate a BOM from Windows editors
            yield from enumerate(fh, start=1)
    else:
        yield from enumerate(source, start=1)


def command_source(path: str) -> Path | IO[str]:
    """The input of an import command: ``-`` for standard input, else an existing file."""
    if path == "-":
        return sys.stdin
    source = Path(path)
    if not source.is_file():
        raise CommandError(_("%(path)s: no such file.") % {"path": path})
    return source


def bad_lines_error(stderr, exc: LineImportError) -> CommandError:
    """Print every problem to ``stderr``; the CommandError to raise (non-zero exit)."""
    for problem in exc.problems:
        stderr.write(str(problem))
    return CommandError(_("%(n)d bad line(s); nothing was imported.") % {"n": len({p.line for p in exc.problems})})
