"""JSON Lines imports: shared line-error reporting for every `import_*` command.

An import validates every line first; each problem becomes a ``LineError`` printed as
``line N: field: reason``, and if there is any, the import raises ``LineImportError`` and
writes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _


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
