"""Coupon batches: N single-use codes per campaign placement, for the promoted brand to hand
out through the promoter's channels, and the CSV they are downloaded as.

* ``coupon_batch_generate`` — the promoted brand's owner, marketers or write keys choose N (at
  most ``EXCHANGE_COUPON_BATCH_MAX``). One batch per placement; asking again for a larger N adds
  the missing codes, a smaller N is refused (issued codes are never taken back). Codes go in
  with one bulk insert that skips any (astronomically unlikely) collision, topped up until N.
  Audited (``COUPONS_GENERATED``).
* ``coupons_csv`` — the codes of a placement as CSV rows, streamed, for the two parties only
  (codes are redeemable value: platform admins see counts, not codes).

Codes: 10 characters from a 32-letter alphabet without 0/O/1/I (50 bits from ``secrets``),
unique across the platform (the database enforces it). A code is redeemed once, by the
reported conversion that names it (``exchange.services.reported``).
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import conf
from exchange.errors import ExchangeError as E
from exchange.models import Campaign, CampaignPlacement, Coupon, CouponBatch
from exchange.services.common import can_act_for, error
from exchange.states import CampaignState
from huiliu import bulk
from partners.actors import Actor
from partners.models import AuditAction
from partners.services import audit

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by shoppers
CODE_LENGTH = 10
TOP_UP_ATTEMPTS = 5


def coupon_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def coupon_code_normalise(code: str) -> str:
    """What a shopper or a shop system typed, as stored: upper case, no spaces or dashes."""
    return "".join(ch for ch in str(code or "").upper() if ch not in " -\t")


def _size_clean(size) -> int:
    cap = conf.coupon_batch_max()
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= cap:
        raise error(
            "size",
            _("A coupon batch holds from 1 to %(cap)s codes.") % {"cap": f"{cap:,}"},
            E.COUPON_BATCH_SIZE,
        )
    return size


def coupon_batch_generate(*, actor: Actor, placement: CampaignPlacement, size: int) -> CouponBatch:
    """The placement's coupon batch holding ``size`` codes (created, or grown to it). Raises
    ``ValidationError``: ``permission_denied`` (not the promoted brand's editor),
    ``campaign_closed``, ``coupon_batch_size`` (outside 1…cap), ``coupon_batch_shrink``."""
    with transaction.atomic():
        cp = (
            CampaignPlacement.objects.select_for_update(of=("self",))
            .select_related("leg", "leg__campaign", "leg__promoted")
            .get(pk=placement.pk)
        )
        leg = cp.leg
        if not can_act_for(actor, leg.promoted_id):
            raise error(
                "placement",
                _("Only the promoted brand's owner or marketers can generate its coupons."),
                E.PERMISSION_DENIED,
            )
        if leg.campaign.state not in (CampaignState.SCHEDULED, CampaignState.LIVE):
            raise error("placement", _("This campaign has ended; no more coupons can be issued."), E.CAMPAIGN_CLOSED)
        size = _size_clean(size)
        now = timezone.now()
        batch = CouponBatch.objects.filter(placement=cp).first()
        before = 0
        if batch is None:
            batch = CouponBatch.objects.create(placement=cp, leg=leg, size=size, created_at=now, updated_at=now)
        else:
            before = batch.size
            if size < before:
                raise error(
                    "size",
                    _("This batch already has %(n)s codes; issued codes are never removed.") % {"n": f"{before:,}"},
                    E.COUPON_BATCH_SHRINK,
                )
            batch.size, batch.updated_at = size, now
            batch.save(update_fields=["size", "updated_at"])
        have = Coupon.objects.filter(batch=batch).count()
        for _attempt in range(TOP_UP_ATTEMPTS):
            missing = size - have
            if missing <= 0:
                break
            codes = {coupon_code_new() for _ in range(missing)}
            have += len(
                bulk.insert_new(
                    Coupon,
                    ("code", "batch_id", "leg_id", "created_at", "redeemed_at", "redeemed_by_id"),
                    [(code, batch.pk, leg.pk, now, None, None) for code in codes],
                    conflict=("code",),
                )
            )
        if have < size:  # pragma: no cover - five rounds of 50-bit collisions
            raise RuntimeError(f"could not draw {size} unique coupon codes")
        audit(
            actor=actor,
            action=AuditAction.COUPONS_GENERATED,
            obj=leg.campaign,
            brand=leg.promoted,
            data={"placement": cp.pk, "batch": batch.pk, "before": before, "size": size},
        )
        return batch


def batch_counts(batch_ids) -> dict[int, tuple[int, int]]:
    """``{batch id: (codes, redeemed)}`` for many batches in one query."""
    rows = (
        Coupon.objects.filter(batch_id__in=list(batch_ids))
        .values("batch_id")
        .annotate(n=Count("id"), redeemed=Count("id", filter=Q(redeemed_at__isnull=False)))
    )
    return {r["batch_id"]: (r["n"], r["redeemed"]) for r in rows}


def can_download_codes(actor: Actor, campaign: Campaign) -> bool:
    """The two parties of the campaign (any role); not platform admins, not other brands."""
    return bool({campaign.brand_a_id, campaign.brand_b_id} & actor.brand_ids)


CSV_HEADER = ("code", "campaign", "placement", "status", "redeemed_at (Asia/Shanghai)")


def coupons_csv(*, actor: Actor, placement: CampaignPlacement) -> Iterator[str]:
    """The placement's codes as CSV text, a line at a time (header first): code, campaign id,
    placement id, status (``unused`` / ``redeemed``), redemption time in Asia/Shanghai. Raises
    ``ValidationError`` (``permission_denied``) before yielding anything for a non-party."""
    placement = CampaignPlacement.objects.select_related("leg__campaign").get(pk=placement.pk)
    if not can_download_codes(actor, placement.leg.campaign):
        raise error(
            "placement", _("Only the two brands of this campaign can download its coupons."), E.PERMISSION_DENIED
        )
    campaign_id = placement.leg.campaign_id
    tz = timezone.get_default_timezone()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow(CSV_HEADER)
        yield flush()
        rows = (
            Coupon.objects.filter(batch__placement=placement)
            .order_by("id")
            .values_list("code", "redeemed_at")
            .iterator(chunk_size=2000)
        )
        for code, redeemed_at in rows:
            when = timezone.localtime(redeemed_at, tz).strftime("%Y-%m-%d %H:%M:%S") if redeemed_at else ""
            writer.writerow((code, campaign_id, placement.pk, "redeemed" if redeemed_at else "unused", when))
            yield flush()

    return lines()
