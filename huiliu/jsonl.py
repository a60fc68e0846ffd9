"""JSON from outside: nesting limits for any JSON we parse (API bodies, import lines), and
the shared line-error reporting of every `import_*` command.

An import validates every line first; each problem becomes a ``LineError`` printed as
``line N: field: reason``, and if there is any, the import raises ``LineImportError`` and
writes nothing. ``json_lines`` reads and parses the lines for every importer the same way,
whatever the source (a path, standard input, a list of lines): UTF-8 decoded line by line (a
line that is not UTF-8 is that line's problem, not the whole file's), a BOM on the first line
dropped, nesting limited, a parse failure reported with its line number.

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

from huiliu.text import excerpt

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


FIELD_SHOWN = 80
MESSAGE_SHOWN = 300
BOM = "\ufeff"


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        # Validators shorten the values they quote; this is the net under them: a field named
        # by a 50 MB key, or a message quoting one, still prints as one short, printable line.
        return f"line {self.line}: {excerpt(self.field, FIELD_SHOWN)}: {excerpt(self.message, MESSAGE_SHOWN)}"


class LineImportError(ValidationError):
    """The file had bad lines; nothing was written. ``problems`` lists each one."""

    def __init__(self, problems: list[LineError]):
        self.problems = problems
        super().__init__([str(p) for p in problems], code="invalid")


@dataclass(frozen=True)
class JsonLine:
    """One line of a JSON Lines source: its parsed ``data``, or its ``problem``, or ``blank``."""

    number: int
    data: Any = None
    problem: LineError | None = None
    blank: bool = False


def _raw_lines(source: str | Path | Iterable[str | bytes]) -> Iterator[tuple[int, str | bytes]]:
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:  # bytes: each line is decoded on its own
            yield from enumerate(fh, start=1)
    else:
        yield from enumerate(source, start=1)


def json_lines(source: str | Path | Iterable[str | bytes]) -> Iterator[JsonLine]:
    """Every line of ``source`` (a path, a binary or text stream, any iterable of lines) parsed.

    Blank lines come back ``blank`` (they still count in line numbers). A line that is not
    UTF-8, not JSON or nested deeper than ``MAX_JSON_DEPTH`` comes back with its ``problem``
    (field ``json``); the lines after it are read as usual.
    """
    for number, raw in _raw_lines(source):
        text = raw
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                message = _("not UTF-8 text (byte %(n)d of the line).") % {"n": exc.start + 1}
                yield JsonLine(number, problem=LineError(number, "json", "invalid", message))
                continue
        if number == 1:
            text = text.removeprefix(BOM)  # a BOM from Windows editors, from a file or a pipe
        text = text.strip()
        if not text:
            yield JsonLine(number, blank=True)
            continue
        try:
            data = loads(text)
        except JsonTooDeep as exc:
            yield JsonLine(number, problem=LineError(number, "json", "invalid", str(exc)))
        except json.JSONDecodeError as exc:
            # exc.msg, not str(exc): that says "line 1 column 5" about the one line parsed.
            message = _("not valid JSON: %(e)s (column %(col)d).") % {"e": exc.msg, "col": exc.colno}
            yield JsonLine(number, problem=LineError(number, "json", "invalid", message))
        except ValueError as exc:
            yield JsonLine(
                number, problem=LineError(number, "json", "invalid", _("not valid JSON: %(e)s") % {"e": exc})
            )
        else:
            yield JsonLine(number, data=data)


def command_source(path: str) -> Path | IO[bytes] | IO[str]:
    """The input of an import command: ``-`` for standard input, else an existing file.

    Standard input is read as bytes, so it is decoded as UTF-8 like a file whatever the
    terminal's locale (and a BOM is dropped the same way)."""
    if path == "-":
        return getattr(sys.stdin, "buffer", sys.stdin)
    source = Path(path)
    if not source.is_file():
        raise CommandError(_("%(path)s: no such file.") % {"path": path})
    return source


def bad_lines_error(stderr, exc: LineImportError) -> CommandError:
    """Print every problem to ``stderr``; the CommandError to raise (non-zero exit)."""
    for problem in exc.problems:
        stderr.write(str(problem))
    return CommandError(_("%(n)d bad line(s); nothing was imported.") % {"n": len({p.line for p in exc.problems})})
