"""The committed SDL is the API's contract: the code may not drift from it, and a change that
would break a client must be acknowledged (deprecate first)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from api import contract


def test_committed_sdl_matches_the_code():
    diff = contract.drift()
    assert not diff, diff + "\nRun `python manage.py schema_sdl --write` and commit schema.graphql."


def test_no_unacknowledged_breaking_change_against_the_committed_sdl():
    assert contract.breaking() == []


def _without_field(sdl: str, type_name: str, field: str) -> str:
    """The SDL with one field of one type removed (as a careless refactor would)."""
    out, inside = [], False
    for line in sdl.splitlines(keepends=True):
        if line.startswith(f"type {type_name} "):
            inside = True
        elif inside and line.startswith("}"):
            inside = False
        if inside and line.strip().startswith(f"{field}:"):
            _drop_description(out)
            continue
        out.append(line)
    return "".join(out)


def _drop_description(lines: list[str]) -> None:
    """Remove the description block (one line or several) that ends ``lines``."""
    if not lines or not lines[-1].strip().endswith('"""'):
        return
    last = lines.pop().strip()
    if last == '"""' or last.count('"""') == 1:  # a block over several lines: back to its opening
        while lines and lines.pop().strip() != '"""':
            pass


def test_removing_a_field_is_reported_as_breaking_and_deprecating_it_is_not():
    current = contract.sdl()
    removed = _without_field(current, "Query", "viewer")
    assert removed != current
    assert "FIELD_REMOVED: Query.viewer was removed." in contract.breaking(current, removed)
    deprecated = current.replace("  viewer: Viewer!\n", '  viewer: Viewer! @deprecated(reason: "use me")\n', 1)
    assert deprecated != current
    assert contract.breaking(current, deprecated) == []


def test_an_acknowledged_breaking_change_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(contract, "ACKS_PATH", tmp_path / "schema.breaking")
    current = contract.sdl()
    removed = _without_field(current, "Query", "viewer")
    assert contract.breaking(current, removed)
    contract.acknowledge(["FIELD_REMOVED: Query.viewer was removed."], "replaced by me in v2")
    assert contract.breaking(current, removed) == []


def test_write_refuses_a_breaking_change_without_acknowledgement(tmp_path, monkeypatch):
    sdl_path = tmp_path / "schema.graphql"
    current = contract.sdl()
    # The committed file still has a field the code no longer has: the code removed it.
    sdl_path.write_text(current.replace("type Query {\n", "type Query {\n  legacyField: Int\n", 1))
    monkeypatch.setattr(contract, "SDL_PATH", sdl_path)
    monkeypatch.setattr(contract, "ACKS_PATH", tmp_path / "schema.breaking")
    with pytest.raises(CommandError, match="FIELD_REMOVED: Query.legacyField was removed"):
        call_command("schema_sdl", "--write")
    with pytest.raises(CommandError, match="out of date"):
        call_command("schema_sdl", "--check")
    call_command("schema_sdl", "--write", "--acknowledge", "never used by any client")
    assert sdl_path.read_text() == current
    assert "Query.legacyField was removed.  # never used by any client" in (tmp_path / "schema.breaking").read_text()
    call_command("schema_sdl", "--check")
