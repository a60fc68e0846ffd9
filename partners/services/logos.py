"""Brand logos: upload (validated by content and size) and removal, through Django's storage."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.logos import LOGO_MAX_BYTES, LOGO_TYPES, image_type
from partners.models import AuditAction, Brand
from partners.services.audit import audit
from partners.services.common import _denied


def _check(upload: File) -> str:
    """The upload's extension (from its content), or the field error."""
    if upload.size is not None and upload.size > LOGO_MAX_BYTES:
        raise ValidationError(
            {
                "logo": ValidationError(
                    _("The logo is larger than %(max)s KB; upload a smaller image.") % {"max": LOGO_MAX_BYTES // 1024},
                    code=E.TOO_LARGE,
                )
            }
        )
    kind = image_type(upload)
    if kind is None:
        raise ValidationError(
            {"logo": ValidationError(_("The logo must be a PNG, JPEG or WebP image."), code=E.INVALID_IMAGE)}
        )
    return LOGO_TYPES[kind]


@transaction.atomic
def brand_logo_set(*, actor: Actor, brand: Brand, upload: File | None) -> Brand:
    """Replace ``brand``'s logo with ``upload`` (PNG, JPEG or WebP by content, at most
    ``LOGO_MAX_BYTES``), or remove it (``upload=None``). Needs an edit role (or admin).
    Audited as a profile update; the replaced file is deleted once the change commits."""
    if not actor.can_edit(brand.pk):
        raise _denied()
    extension = _check(upload) if upload is not None else None
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    old = brand.logo.name if brand.logo else ""
    if upload is None:
        if not old:
            return brand
        brand.logo = None
    else:
        # A fresh random name per upload: caches keyed by the URL never show a stale logo.
        brand.logo.save(f"{brand.slug}-{secrets.token_hex(4)}.{extension}", upload, save=False)
    brand.save(update_fields=["logo", "updated_at"])
    audit(actor=actor, action=AuditAction.BRAND_UPDATED, obj=brand, brand=brand, data={"fields": ["logo"]})
    if old:
        storage = brand.logo.storage
        transaction.on_commit(lambda: storage.delete(old))
    return brand
