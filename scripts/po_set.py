"""Set translations in a .po catalogue from a TSV on standard input (msgid<TAB>msgstr a line),
clearing the fuzzy flag and stale "#|" hints of the entries it sets; prints the msgids it could
not find. For the zh-Hans catalogue after `make messages`:

    printf 'clicks\t点击\n' | python scripts/po_set.py locale/zh_Hans/LC_MESSAGES/django.po

Then `make messages` (or compilemessages) rebuilds the .mo. Escapes: write \\n for a newline,
\\" is not needed (quotes are escaped here).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def _unquote(lines: list[str]) -> str:
    return (
        "".join(re.match(r'^"(.*)"$', ln.strip()).group(1) for ln in lines)
        .encode()
        .decode("unicode_escape")
        .encode("latin-1")
        .decode("utf-8")
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(path: str) -> int:
    wanted = {}
    for line in sys.stdin.read().splitlines():
        if "\t" in line:
            key, value = line.split("\t", 1)
            wanted[key.replace("\\n", "\n")] = value.replace("\\n", "\n")
    blocks = Path(path).read_text(encoding="utf-8").split("\n\n")
    found = set()
    for i, block in enumerate(blocks):
        lines = block.split("\n")
        try:
            start = next(n for n, ln in enumerate(lines) if ln.startswith("msgid "))
            stop = next(n for n, ln in enumerate(lines) if ln.startswith("msgstr"))
        except StopIteration:
            continue
        if any(ln.startswith("msgid_plural") for ln in lines):
            continue
        msgid_lines = [lines[start][6:], *lines[start + 1 : stop]]
        msgid = _unquote(msgid_lines)
        if msgid not in wanted:
            continue
        found.add(msgid)
        head = [ln for ln in lines[:start] if not ln.startswith("#|")]
        head = [re.sub(r",\s*fuzzy", "", ln) if ln.startswith("#,") else ln for ln in head]
        head = [ln for ln in head if ln.strip() not in ("#", "#,")]
        blocks[i] = "\n".join([*head, *lines[start:stop], "msgstr " + _quote(wanted[msgid])])
    Path(path).write_text("\n\n".join(blocks), encoding="utf-8")
    for missing in sorted(set(wanted) - found):
        print(f"not in the catalogue: {missing!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
