"""Brand logos: serving the stored image, and uploading or removing it from the profile editor.

The app serves logos itself (from Django's storage), so no web-server route or public bucket
is needed, and the response's type comes from the file's content (``partners.logos``), never
from its name.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from frontend.forms import LogoForm, apply_errors
from frontend.views.brands import edit_page
from frontend.views.common import actor_of, brand_for
from partners import selectors, services
from partners.logos import image_type
from partners.models import BrandStatus


@require_GET
def brand_logo(request, slug: str):
    """An approved brand's logo for everyone; another brand's for its members and admins
    (404 otherwise, as for its pages)."""
    actor = actor_of(request)
    brand = selectors.brand_get(actor=actor, slug=slug)
    public = brand is not None and brand.status == BrandStatus.APPROVED
    if brand is None or not brand.logo or not (public or actor.can_view_private(brand.pk)):
        raise Http404
    try:
        stream = brand.logo.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    kind = image_type(stream)
    if kind is None:  # never stored by brand_logo_set; refuse rather than guess
        stream.close()
        raise Http404
    response = FileResponse(stream, content_type=kind)
    # The URL carries the file's version (?v=), so a cached copy is never stale.
    response["Cache-Control"] = "public, max-age=604800" if public else "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@login_required
def brand_logo_upload(request, slug: str):
    brand = brand_for(request, slug, need="edit")
    form = LogoForm(request.POST, request.FILES)
    if form.is_valid():
        upload = None if form.cleaned_data["remove"] else form.cleaned_data["logo"]
        try:
            services.brand_logo_set(actor=actor_of(request), brand=brand, upload=upload)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The logo was removed.") if upload is None else _("The logo was saved."))
            return redirect("frontend:brand_edit", slug=brand.slug)
    return edit_page(request, brand, logo_form=form)
