"""Shared by the proposal views: the caller's proposal or a 404, who negotiates, errors shown."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import get_language

from exchange import selectors
from exchange.errors import ExchangeError
from exchange.models import Proposal
from frontend.labels import page_error_items
from partners.actors import EDIT_ROLES, Actor


def ui_language() -> str:
    return get_language() or "zh-hans"


def negotiates_for(actor: Actor, brand_id: int | None) -> bool:
    """Which buttons to show: owners and marketers negotiate, viewers and platform admins
    only read (the services enforce the same rule)."""
    return brand_id is not None and actor.role_in(brand_id) in EDIT_ROLES


def proposal_or_404(actor: Actor, pk: int) -> Proposal:
    proposal = selectors.proposal_get(actor=actor, pk=pk)
    if proposal is None:
        raise Http404
    return proposal


def refused(exc: ValidationError) -> bool:
    return any(code == ExchangeError.PERMISSION_DENIED for _f, code, _m in page_error_items(exc))


def flash_errors(request, exc: ValidationError) -> None:
    for _field, _code, message in page_error_items(exc):
        messages.error(request, message)
