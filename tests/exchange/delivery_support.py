"""Helpers for the delivery-report tests (services, GraphQL, web): a live campaign at a frozen
"now", its placements by promoter, and real image bytes made with Pillow."""

from __future__ import annotations

import io
import os
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from exchange import services
from exchange.models import CampaignPlacement


def make_live(campaign):
    """Move the campaign live at its first window's start; returns that instant."""
    services.campaigns_advance(now=campaign.starts_at)
    campaign.refresh_from_db()
    return campaign.starts_at


def placement_of(campaign, promoter, fmt: str = "direct_message") -> CampaignPlacement:
    """The promoter's placement of that format (the ``accepted`` fixture has one per format)."""
    return (
        CampaignPlacement.objects.select_related("leg", "placement")
        .filter(leg__campaign=campaign, leg__promoter=promoter, placement__format=fmt)
        .get()
    )


def during(cp: CampaignPlacement, hours: int = 26):
    """An instant inside the placement's window."""
    return cp.starts_at + timedelta(hours=hours)


def image_bytes(fmt: str = "PNG", size=(24, 16), noisy: bool = False) -> bytes:
    """A real image; ``noisy`` pixels do not compress, so its size follows its dimensions."""
    buffer = io.BytesIO()
    if noisy:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 80, 40))
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str = "screenshot.png", content: bytes | None = None, content_type: str = "image/png"):
    return SimpleUploadedFile(name, image_bytes() if content is None else content, content_type=content_type)


def make_live_now(campaign):
    """Shift the campaign's windows so that the last one to start started a day ago, and move
    it live (for tests through the API and the web, which run at the real "now")."""
    from django.db.models import Max
    from django.utils import timezone

    from exchange.models import Campaign

    placements = CampaignPlacement.objects.filter(leg__campaign=campaign)
    shift = timezone.now() - timedelta(days=1) - placements.aggregate(m=Max("starts_at"))["m"]
    for cp in placements:
        CampaignPlacement.objects.filter(pk=cp.pk).update(starts_at=cp.starts_at + shift, ends_at=cp.ends_at + shift)
    Campaign.objects.filter(pk=campaign.pk).update(
        starts_at=campaign.starts_at + shift, ends_at=campaign.ends_at + shift
    )
    services.campaigns_advance()
    campaign.refresh_from_db()
    assert campaign.state == "live"
    return campaign
