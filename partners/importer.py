"""Bulk import of brands from JSON Lines (``manage.py import_brands``, ``load_demo``).

One brand per line, upserted by slug. The whole file is validated first with the same
validators as every other surface (``partners.validation``); if any line is bad nothing is
written and every problem is reported as ``line N: field: reason``. Otherwise all rows are
written in one transaction with the bulk writers of ``huiliu.bulk`` (``COPY`` on PostgreSQL),
so 100,000 brands take ~25 seconds rather than the ~8 minutes of a per-row ``save()``
(benchmarks/import_brands.py, docs/PERFORMANCE.md).

The file format is documented in docs/IMPORT.md. One workflow over ~400 lines: validate every
line, then write them all; the bulk writers themselves are ``huiliu.bulk``'s.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiliu import bulk
from huiliu.bulk import Progress
from huiliu.errors import error_items
from huiliu.jsonl import LineError, LineImportError, json_lines
from partners import selectors, validation
from partners.actors import Actor
from partners.channels import same_channel_numbers
from partners.errors import PartnersError as E
from partners.models import AuditAction, AuditEvent, Brand, BrandBlock, BrandStatus, Channel, Verification
from partners.signals import brands_imported

LOOKUP_CHUNK = 5_000  # slugs per ``slug IN (...)`` query
UPDATE_CHUNK = bulk.UPDATE_BATCH_SIZE  # existing brands loaded and written back per round
PROGRESS_EVERY = bulk.PROGRESS_EVERY  # lines (or rows) between progress messages
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
    ticker = bulk.ProgressTicker(progress, _("validated"), every=PROGRESS_EVERY)
    count = 0
    for parsed in json_lines(path_or_lines):
        number = count = parsed.number
        ticker.tick(number)
        if parsed.blank:
            continue
        if parsed.problem is not None:
            problems.append(parsed.problem)
            continue
        data = parsed.data
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
    path_or_lines: str | Path | Iterable[str | bytes],
    approve: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate a JSON Lines file of brands, then upsert every brand by slug.

    New brands are created ``pending`` (``approved`` when ``approve``); existing ones get the
    line's profile fields, their channels replaced and their blocklist replaced; with
    ``approve`` a pending existing brand is approved too (other statuses are left alone).
    Writes one ``brand.imported`` AuditEvent per brand and one ``brand.approved`` per approval.

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
    elif same_channel_numbers(size, rate, channel["size"], channel["active_rate"]):
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
    ticker = bulk.ProgressTicker(progress, _("brands written"), every=PROGRESS_EVERY)

    # --- new brands: written, then their ids read back by slug (COPY returns none) ------------
    status = BrandStatus.APPROVED if approve else BrandStatus.PENDING
    for chunk in bulk.batches(new_rows, LOOKUP_CHUNK):
        bulk.copy_dicts(Brand, (_new_brand_row(row, status=status, approve=approve, now=now) for row in chunk))
        for slug, (pk, _status) in _existing(r.fields["slug"] for r in chunk).items():
            ids[slug] = pk
        result.created += len(chunk)
        ticker.tick(result.created, total)
    if approve:
        approved_ids.extend((ids[row.fields["slug"]], BrandStatus.PENDING) for row in new_rows)

    # --- existing brands: profile, scale, maybe approval ------------------------------------
    updated_fields = [
        *validation.BRAND_PROFILE_FIELDS,
        "active_audience",
        "updated_at",
        "status",
        "status_reason",
        "status_changed_at",
    ]
    for chunk in bulk.batches(old_rows, UPDATE_CHUNK):
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
            obj.updated_at = now  # update_rows skips auto_now
            if approve and obj.status == BrandStatus.PENDING:
                approved_ids.append((obj.pk, obj.status))
                obj.status, obj.status_reason, obj.status_changed_at = BrandStatus.APPROVED, "", now
            objs.append(obj)
        result.updated += bulk.update_rows(objs, updated_fields)
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

    def channel_rows() -> Iterator[dict[str, Any]]:
        for row in rows:
            brand_id = ids[row.fields["slug"]]
            for c in row.channels:
                old = stored.get((brand_id, c["type"], c["label"]))
                yield {"brand_id": brand_id, "created_at": now, **_carry_verification(c, old, now)}

    ticker = bulk.ProgressTicker(progress, _("channels written"), every=PROGRESS_EVERY)
    result.channels = bulk.copy_dicts(Channel, channel_rows(), progress=ticker.tick)
    blocks = (
        {"brand_id": ids[row.fields["slug"]], "blocked_id": ids[slug], "created_at": now}
        for row in rows
        for slug in row.blocked
    )
    result.blocks = bulk.copy_dicts(BrandBlock, blocks)

    # --- audit: one event per brand imported, one per approval (generated as they are
    # written: 200,000 rows at once would double the import's memory) -------------------------
    audit_base = {
        "actor_id": actor.user.pk if actor.user else None,
        "actor_api_key_id": actor.api_key.pk if actor.api_key else None,
        "object_type": "brand",
        "created_at": now,
    }

    def events() -> Iterator[dict[str, Any]]:
        for row in rows:
            pk = ids[row.fields["slug"]]
            yield {
                **audit_base,
                "action": AuditAction.BRAND_IMPORTED,
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
                "action": AuditAction.BRAND_APPROVED,
                "brand_id": pk,
                "object_id": str(pk),
                # No reason text: it would be stored in one language and read in another; the
                # BRAND_IMPORTED event beside it says how the brand came to be approved.
                "reason": "",
                "data": {"from": previous, "to": str(BrandStatus.APPROVED)},
            }

    total_events = len(rows) + len(approved_ids)
    ticker = bulk.ProgressTicker(progress, _("audit events written"), every=PROGRESS_EVERY)
    bulk.copy_dicts(AuditEvent, events(), progress=lambda written: ticker.tick(written, total_events))
    result.brand_ids = [ids[r.fields["slug"]] for r in rows]
