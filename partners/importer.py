"""Bulk import of brands from JSON Lines (``manage.py import_brands``, ``load_demo``).

One brand per line, upserted by slug. The whole file is validated first with the same
validators as every other surface (``partners.validation``); if any line is bad nothing is
written and every problem is reported as ``line N: field: reason``. Otherwise all rows are
written in one transaction with bulk statements (``COPY`` on PostgreSQL), so 100,000 brands
take ~25 seconds rather than the ~8 minutes of a per-row ``save()`` (benchmarks/import_brands.py,
docs/PERFORMANCE.md).

The file format is documented in docs/IMPORT.md.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiliu.errors import error_items
from huiliu.jsonl import LineError, LineImportError, iter_lines
from partners import selectors, validation
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditEvent, Brand, BrandBlock, BrandStatus, Channel
from partners.signals import brands_imported

BATCH_SIZE = 2_000  # rows per INSERT statement
# Updates go through one ``UPDATE … FROM (VALUES …)`` per batch: Django's bulk_update builds a
# CASE WHEN per field and row, which measured ~300 rows/s here (CPU in expression building).
UPDATE_BATCH_SIZE = 1_000
LOOKUP_CHUNK = 5_000  # slugs per ``slug IN (...)`` query
PROGRESS_EVERY = 10_000  # lines (or rows) between progress messages
MAX_BLOCKED = 100


class BrandImportError(LineImportError):
    """The brands file had bad lines; nothing was written. ``problems`` lists each one."""


@dataclass
class ImportResult:
    lines: int = 0
    created: int = 0
    updated: int = 0
    approved: int = 0
    channels: int = 0
    blocks: int = 0
    brand_ids: list[int] = field(default_factory=list)
    validate_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def brands(self) -> int:
        return self.created + self.updated


@dataclass
class _Row:
    line: int
    fields: dict[str, Any]
    channels: list[dict[str, Any]]
    blocked: list[str]


Progress = Callable[[str], None]


class _Ticker:
    """Reports progress every PROGRESS_EVERY items with the running rate."""

    def __init__(self, progress: Progress | None, what: str):
        self.progress, self.what = progress, what
        self.start = time.perf_counter()
        self.next_at = PROGRESS_EVERY

    def tick(self, count: int, total: int | None = None) -> None:
        if self.progress is None or count < self.next_at:
            return
        while self.next_at <= count:
            self.next_at += PROGRESS_EVERY
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        of = f"/{total:,}" if total else ""
        self.progress(f"{self.what}: {count:,}{of} ({count / elapsed:,.0f}/s)")


def _clean_blocked(value: Any, own_slug: str | None) -> tuple[list[tuple[int, str]], list[tuple[str, str, str]]]:
    """A brand's ``blocked`` list → ([(index, slug)], [(field, code, message)]).

    Slugs must be well formed and not the brand itself; existence is checked after the
    whole file has been read (a block may name a brand further down).
    """
    if value in (None, ""):
        return [], []
    if not isinstance(value, list):
        return [], [("blocked", E.INVALID, _("blocked must be a list of brand slugs."))]
    if len(value) > MAX_BLOCKED:
        return [], [("blocked", E.INVALID, _("at most %(n)d blocked brands.") % {"n": MAX_BLOCKED})]
    errors: list[tuple[str, str, str]] = []
    out: list[tuple[int, str]] = []
    for i, raw in enumerate(value):
        key = f"blocked[{i}]"
        try:
            slug = validation.validate_slug(raw if isinstance(raw, str) else "")
        except ValidationError as exc:
            errors += [(key, code, message) for _f, code, message in error_items(exc)]
            continue
        if slug == own_slug:
            errors.append((key, E.SELF_BLOCK, _("a brand cannot block itself.")))
        elif slug not in {s for _i, s in out}:
            out.append((i, slug))
    return out, errors


def _validate(
    path_or_lines: str | Path | Iterable[str], categories: dict[str, Any], progress: Progress | None
) -> tuple[list[_Row], list[LineError], int, list[tuple[int, list[tuple[int, str]]]]]:
    """Every line checked on its own; returns (good rows, problems, lines read, every
    line's ``blocked`` list — kept for bad lines too, so their unknown slugs are reported)."""
    rows: list[_Row] = []
    all_blocked: list[tuple[int, list[tuple[int, str]]]] = []
    problems: list[LineError] = []
    first_line: dict[str, int] = {}
    ticker = _Ticker(progress, _("validated"))
    count = 0
    for number, raw in iter_lines(path_or_lines):
        count = number
        ticker.tick(number)
        text = raw.strip()
        if not text:
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            problems.append(LineError(number, "json", E.INVALID, _("not valid JSON: %(e)s") % {"e": exc}))
            continue
        if not isinstance(data, dict):
            problems.append(LineError(number, "brand", E.INVALID, _("a brand must be a JSON object.")))
            continue
        line_errors: list[tuple[str, str, str]] = []
        fields = channels = None
        try:
            fields = validation.clean_brand_profile(data, categories=categories)
            if "price_tier" not in data:
                # The validator fills in the default tier; only a new brand should get it
                # (Brand.price_tier's default) — re-importing a line without one keeps the tier.
                fields.pop("price_tier", None)
        except ValidationError as exc:
            line_errors += error_items(exc)
        try:
            channels = validation.clean_channels(data.get("channels"))
            for raw, channel in zip(data.get("channels") or [], channels, strict=True):
                if not raw.get("verification"):
                    # Not given: a re-import keeps the platform's verification of an unchanged
                    # channel (see _carry_verification); otherwise self_reported.
                    channel.pop("verification", None)
        except ValidationError as exc:
            line_errors += error_items(exc)
        slug = fields["slug"] if fields else data.get("slug")
        blocked, block_errors = _clean_blocked(data.get("blocked"), slug if isinstance(slug, str) else None)
        line_errors += block_errors
        if blocked:
            all_blocked.append((number, blocked))
        if fields is not None:
            seen = first_line.setdefault(fields["slug"], number)
            if seen != number:
                line_errors.append(
                    ("slug", E.DUPLICATE, _("%(slug)s is already on line %(n)d.") % {"slug": fields["slug"], "n": seen})
                )
        for fname, code, message in line_errors:
            problems.append(LineError(number, "brand" if fname == "__all__" else fname, code, message))
        if not line_errors:
            rows.append(_Row(number, fields, channels, [slug for _i, slug in blocked]))
    return rows, problems, count, all_blocked


def _existing(slugs: Iterable[str]) -> dict[str, tuple[int, str]]:
    """slug → (id, status) for the slugs already in the database."""
    slugs = list(slugs)
    found: dict[str, tuple[int, str]] = {}
    for i in range(0, len(slugs), LOOKUP_CHUNK):
        for slug, pk, status in Brand.objects.filter(slug__in=slugs[i : i + LOOKUP_CHUNK]).values_list(
            "slug", "pk", "status"
        ):
            found[slug] = (pk, status)
    return found


def brands_import(
    *,
    path_or_lines: str | Path | Iterable[str],
    approve: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate a JSON Lines file of brands, then upsert every brand by slug.

    New brands are created ``pending`` (``approved`` when ``approve``); existing ones get the
    line's profile fields, their channels replaced and their blocklist replaced; with
    ``approve`` a pending existing brand is approved too (other statuses are left alone).
    Writes one ``brand.imported`` AuditEvent per brand and one ``brand.approve`` per approval.

    Raises ``BrandImportError`` (a ValidationError) listing every bad line; then nothing is
    written. ``progress`` receives a line of text every 10,000 lines validated / rows written.
    """
    # The cyclic GC re-scans every object held so far each time it runs, so with 100,000
    # parsed rows in memory it costs more the further the import gets (validation fell from
    # 10,000 to 6,000 lines/s). The rows hold no cycles; collect once at the end instead.
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        return _import(path_or_lines=path_or_lines, approve=approve, actor=actor, progress=progress)
    finally:
        if gc_enabled:
            gc.enable()


def _import(
    *, path_or_lines: str | Path | Iterable[str], approve: bool, actor: Actor | None, progress: Progress | None
) -> ImportResult:
    actor = actor or Actor.system_actor()
    if not actor.is_admin:
        raise ValidationError(
            {"__all__": ValidationError(_("Only platform admins can import brands."), code=E.PERMISSION_DENIED)}
        )
    result = ImportResult()
    started = time.perf_counter()
    categories = selectors.category_lookup()
    rows, problems, result.lines, all_blocked = _validate(path_or_lines, categories, progress)

    # ``blocked`` may name a brand further down the file or one already in the database.
    in_file = {row.fields["slug"] for row in rows}
    wanted = {slug for _line, pairs in all_blocked for _i, slug in pairs} - in_file
    existing = _existing(in_file | wanted)
    for line, pairs in all_blocked:
        for i, slug in pairs:
            if slug not in in_file and slug not in existing:
                problems.append(
                    LineError(
                        line,
                        f"blocked[{i}]",
                        E.UNKNOWN_BRAND,
                        _("no brand %(slug)s in this file or in the database.") % {"slug": slug},
                    )
                )
    result.validate_seconds = time.perf_counter() - started
    if problems:
        problems.sort(key=lambda p: p.line)
        raise BrandImportError(problems)
    if progress:
        progress(
            _("validated %(n)s brands in %(s).1fs; writing…") % {"n": f"{len(rows):,}", "s": result.validate_seconds}
        )

    write_started = time.perf_counter()
    with transaction.atomic():
        _write(rows, existing, approve=approve, actor=actor, result=result, progress=progress)
        ids = result.brand_ids
        # One summary signal, not one brand_changed per brand: 100,000 per-brand refreshes
        # would swamp the workers, and the matcher rebuilds everything after an import anyway.
        if ids:
            transaction.on_commit(lambda: brands_imported.send(sender=Brand, brand_ids=ids))
    result.write_seconds = time.perf_counter() - write_started
    return result


class _RowWriter:
    """Inserts plain rows (``{attname: value}``) of one model, fast.

    On PostgreSQL through ``COPY … FROM STDIN`` (several times faster than INSERT for the
    channels and audit events, which are most of an import's rows); elsewhere through
    ``bulk_create``. A column a row leaves out gets the field's default, as ``Model()`` would,
    so a field added to the model later does not break the import.
    """

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.copy = connection.vendor == "postgresql"

    def insert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if not self.copy:
            self.model.objects.bulk_create([self.model(**row) for row in rows], batch_size=BATCH_SIZE)
            return
        defaults = {f.attname: f.get_default() for f in self.fields}
        # JSON values need the backend's adapter; everything else psycopg dumps as is.
        json_fields = {f.attname: f for f in self.fields if isinstance(f, models.JSONField)}
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.fields)
        attnames = [f.attname for f in self.fields]
        # The raw psycopg cursor bypasses Django's error translation: wrap it so a refused row
        # raises django.db.DatabaseError (which the command reports) rather than psycopg's own.
        with connection.wrap_database_errors, connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {qn(self.model._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = []
                    for name in attnames:
                        value = row[name] if name in row else defaults[name]
                        if name in json_fields:
                            value = json_fields[name].get_db_prep_save(value, connection)
                        values.append(value)
                    copy.write_row(values)


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _update_rows(objs: list[Brand], field_names: list[str]) -> None:
    """UPDATE many brands in one statement: ``WITH v(...) AS (VALUES ...) UPDATE ... FROM v``.

    Works on PostgreSQL and SQLite ≥ 3.33. Values go through each field's own
    ``get_db_prep_save`` (JSON adaptation etc.); on PostgreSQL each is cast to the column type
    because VALUES would otherwise type them as text.
    """
    if not objs:
        return
    meta = Brand._meta
    fields = [meta.get_field(name) for name in field_names]
    pk = meta.pk
    qn = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"

    def placeholder(f) -> str:
        return f"%s::{f.rel_db_type(connection) if f.is_relation else f.db_type(connection)}" if postgres else "%s"

    row_sql = "(" + ", ".join(placeholder(f) for f in [pk, *fields]) + ")"
    params: list[Any] = []
    for obj in objs:
        params.append(obj.pk)
        params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
    columns = ", ".join(qn(f.column) for f in [pk, *fields])
    table = qn(meta.db_table)
    sets = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in fields)
    sql = (
        f"WITH v ({columns}) AS (VALUES {', '.join([row_sql] * len(objs))}) "
        f"UPDATE {table} SET {sets} FROM v WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _new_brand_row(row: _Row, *, status: str, approve: bool, now) -> dict[str, Any]:
    """A new brand's column values (attnames), from a validated line."""
    values = {k: v for k, v in row.fields.items() if k != "category"}
    values.update(
        category_id=row.fields["category"].pk,
        status=status,
        status_changed_at=now if approve else None,
        submitted_at=now,
        created_at=now,
        updated_at=now,
        active_audience=validation.active_audience(row.channels),
    )
    return values


def _carry_verification(channel: dict[str, Any], old: tuple[int, float, str, Any] | None, now) -> dict[str, Any]:
    """A channel row with its verification: as in ``brand_channels_set``, a channel whose
    numbers are unchanged keeps the verification (and its time) on file unless the line sets
    one; a changed channel without one in the line is self_reported."""
    from partners.models import Verification

    sent = channel.get("verification")
    out = {**channel, "verification": sent or Verification.SELF_REPORTED, "verified_at": None}
    if old is None:
        if sent and sent != Verification.SELF_REPORTED:
            out["verified_at"] = now
        return out
    size, rate, verification, verified_at = old
    if sent:
        if sent == verification:
            out["verified_at"] = verified_at
        elif sent != Verification.SELF_REPORTED:
            out["verified_at"] = now
    elif size == channel["size"] and abs(rate - channel["active_rate"]) < 1e-4:
        out["verification"], out["verified_at"] = verification, verified_at
    return out


def _write(
    rows: list[_Row],
    existing: dict[str, tuple[int, str]],
    *,
    approve: bool,
    actor: Actor,
    result: ImportResult,
    progress: Progress | None,
) -> None:
    now = timezone.now()
    new_rows = [r for r in rows if r.fields["slug"] not in existing]
    old_rows = [r for r in rows if r.fields["slug"] in existing]
    ids: dict[str, int] = {slug: pk for slug, (pk, _status) in existing.items()}
    approved_ids: list[tuple[int, str]] = []  # (id, previous status)
    total = len(rows)
    ticker = _Ticker(progress, _("brands written"))

    # --- new brands ------------------------------------------------------------------------
    status = BrandStatus.APPROVED if approve else BrandStatus.PENDING
    if connection.vendor == "postgresql":
        # COPY, then read the new ids back by slug (COPY returns none).
        writer = _RowWriter(Brand)
        for i in range(0, len(new_rows), LOOKUP_CHUNK):
            chunk = new_rows[i : i + LOOKUP_CHUNK]
            writer.insert([_new_brand_row(row, status=status, approve=approve, now=now) for row in chunk])
            for slug, (pk, _status) in _existing(r.fields["slug"] for r in chunk).items():
                ids[slug] = pk
            result.created += len(chunk)
            ticker.tick(result.created, total)
    else:
        for i in range(0, len(new_rows), BATCH_SIZE):
            chunk = new_rows[i : i + BATCH_SIZE]
            objs = [Brand(**_new_brand_row(row, status=status, approve=approve, now=now)) for row in chunk]
            Brand.objects.bulk_create(objs)
            for obj in objs:
                ids[obj.slug] = obj.pk
            result.created += len(objs)
            ticker.tick(result.created, total)
    if approve:
        approved_ids.extend((ids[row.fields["slug"]], BrandStatus.PENDING) for row in new_rows)

    # --- existing brands: profile, scale, maybe approval ------------------------------------
    for i in range(0, len(old_rows), UPDATE_BATCH_SIZE):
        chunk = old_rows[i : i + UPDATE_BATCH_SIZE]
        current = Brand.objects.in_bulk([r.fields["slug"] for r in chunk], field_name="slug")
        objs = []
        for row in chunk:
            obj = current[row.fields["slug"]]
            for key, value in row.fields.items():
                if key == "credit_code" and not value and obj.credit_code:
                    continue  # a line without a code never erases one on file (as brand_update)
                if key != "slug":
                    setattr(obj, key, value)
            obj.active_audience = validation.active_audience(row.channels)
            obj.updated_at = now  # bulk_update skips auto_now
            if approve and obj.status == BrandStatus.PENDING:
                approved_ids.append((obj.pk, obj.status))
                obj.status, obj.status_reason, obj.status_changed_at = BrandStatus.APPROVED, "", now
            objs.append(obj)
        _update_rows(
            objs,
            [
                *validation.BRAND_PROFILE_FIELDS,
                "active_audience",
                "updated_at",
                "status",
                "status_reason",
                "status_changed_at",
            ],
        )
        result.updated += len(objs)
        ticker.tick(result.brands, total)
    result.approved = len(approved_ids)

    # --- channels and blocks: replaced wholesale for updated brands ---------------------------
    old_ids = [ids[r.fields["slug"]] for r in old_rows]
    stored: dict[tuple[int, str, str], tuple[int, float, str, Any]] = {}
    for i in range(0, len(old_ids), LOOKUP_CHUNK):
        channels = Channel.objects.filter(brand_id__in=old_ids[i : i + LOOKUP_CHUNK])
        for brand_id, ctype, label, *rest in channels.values_list(
            "brand_id", "type", "label", "size", "active_rate", "verification", "verified_at"
        ):
            stored[(brand_id, ctype, label)] = tuple(rest)
        channels.delete()
        BrandBlock.objects.filter(brand_id__in=old_ids[i : i + LOOKUP_CHUNK]).delete()

    ticker = _Ticker(progress, _("channels written"))
    channel_writer = _RowWriter(Channel)
    batch: list[dict[str, Any]] = []
    for row in rows:
        brand_id = ids[row.fields["slug"]]
        batch.extend(
            {
                "brand_id": brand_id,
                "created_at": now,
                **_carry_verification(c, stored.get((brand_id, c["type"], c["label"])), now),
            }
            for c in row.channels
        )
        if len(batch) >= BATCH_SIZE:
            channel_writer.insert(batch)
            result.channels += len(batch)
            batch = []
            ticker.tick(result.channels)
    channel_writer.insert(batch)
    result.channels += len(batch)

    blocks = [
        {"brand_id": ids[row.fields["slug"]], "blocked_id": ids[slug], "created_at": now}
        for row in rows
        for slug in row.blocked
    ]
    _RowWriter(BrandBlock).insert(blocks)
    result.blocks = len(blocks)

    # --- audit: one event per brand imported, one per approval (built per batch: 200,000
    # rows at once would double the import's memory) -------------------------------------------
    audit_base = {
        "actor_id": actor.user.pk if actor.user else None,
        "actor_api_key_id": actor.api_key.pk if actor.api_key else None,
        "object_type": "brand",
        "created_at": now,
    }
    approve_reason = _("approved by bulk import")

    def events() -> Iterator[dict[str, Any]]:
        for row in rows:
            pk = ids[row.fields["slug"]]
            yield {
                **audit_base,
                "action": "brand.imported",
                "brand_id": pk,
                "object_id": str(pk),
                "reason": "",
                "data": {
                    "created": row.fields["slug"] not in existing,
                    "line": row.line,
                    "channels": len(row.channels),
                },
            }
        for pk, previous in approved_ids:
            yield {
                **audit_base,
                "action": "brand.approve",
                "brand_id": pk,
                "object_id": str(pk),
                "reason": approve_reason,
                "data": {"from": previous, "to": str(BrandStatus.APPROVED)},
            }

    total_events = len(rows) + len(approved_ids)
    ticker = _Ticker(progress, _("audit events written"))
    audit_writer = _RowWriter(AuditEvent)
    written = 0
    for batch_events in _batches(events(), BATCH_SIZE):
        audit_writer.insert(batch_events)
        written += len(batch_events)
        ticker.tick(written, total_events)
    result.brand_ids = [ids[r.fields["slug"]] for r in rows]
