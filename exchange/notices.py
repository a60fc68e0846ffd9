"""How an exchange event reads to one brand's people, in their language — one sentence used by
the inbox, the e-mail subject and the API, so the three never disagree."""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext as _

from exchange.declines import decline_text
from exchange.models import DomainEvent, EventType
from partners.models import Brand

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(text: str) -> str:
    """Names come from users: never let one break a header or a line (control characters)."""
    return _CONTROL.sub(" ", str(text or "")).strip()


def notice_line(event: DomainEvent, brand: Brand, language: str) -> str:
    """The event as ``brand``'s members read it, e.g. "Bean House sent a counter-offer to Tiny Toys"."""
    proposal = event.proposal
    other = None
    if proposal is not None:
        other = proposal.initiator if proposal.other(brand.pk) == proposal.initiator_id else proposal.counterparty
    with translation.override(language):
        texts = {
            EventType.PROPOSAL_CREATED: _("%(other)s proposes a traffic swap to %(brand)s"),
            EventType.PROPOSAL_COUNTERED: _("%(other)s sent a counter-offer to %(brand)s"),
            EventType.PROPOSAL_ACCEPTED: _("%(other)s accepted the swap with %(brand)s"),
            EventType.PROPOSAL_DECLINED: _("%(other)s declined the swap with %(brand)s"),
            EventType.PROPOSAL_WITHDRAWN: _("%(other)s withdrew its proposal to %(brand)s"),
            EventType.PROPOSAL_EXPIRED: _("The swap proposal between %(brand)s and %(other)s expired"),
            EventType.PROPOSAL_MESSAGE: _("New message from %(other)s about your swap"),
            EventType.CAMPAIGN_LIVE: _("The swap campaign between %(brand)s and %(other)s is live"),
            EventType.CAMPAIGN_COMPLETED: _("The swap campaign between %(brand)s and %(other)s has ended"),
            EventType.DELIVERY_REPORTED: _("%(other)s reported a delivery for its swap with %(brand)s"),
            EventType.DELIVERY_CONFIRMED: _("A delivery in the swap between %(brand)s and %(other)s was confirmed"),
            EventType.DELIVERY_DISPUTED: _("%(other)s disputed a delivery in its swap with %(brand)s"),
            EventType.DISPUTE_OPENED: _("%(other)s opened a dispute in its swap with %(brand)s"),
            EventType.DISPUTE_ANSWERED: _("%(other)s answered the dispute in its swap with %(brand)s"),
            EventType.DISPUTE_RESOLVED: _("A dispute in the swap between %(brand)s and %(other)s was closed"),
        }
        payload = event.payload or {}
        payer = payload.get("payer") == brand.slug
        if event.type == EventType.SETTLEMENT_OPENED:
            texts[event.type] = (
                _("%(brand)s owes the settlement of its swap with %(other)s: choose cash or traffic credit")
                if payer
                else _("A settlement of the swap between %(brand)s and %(other)s is open")
            )
        elif event.type == EventType.SETTLEMENT_PAID:
            texts[event.type] = _("The settlement of the swap between %(brand)s and %(other)s is paid")
        elif event.type == EventType.SETTLEMENT_UPDATED and payload.get("owed_by"):
            # A decision on a paid settlement moved the gap onto traffic credit.
            texts[event.type] = (
                _(
                    "After the platform's decision, %(brand)s owes the corrected gap of its swap with %(other)s as "
                    "traffic credit"
                )
                if payload.get("owed_by") == brand.slug
                else _(
                    "After the platform's decision, the corrected gap of the swap between %(brand)s and %(other)s "
                    "is carried as traffic credit"
                )
            )
        elif event.type == EventType.SETTLEMENT_CREDITED:
            texts[event.type] = (
                _(
                    "No choice was made in time: the settlement of the swap between %(brand)s and %(other)s is carried as traffic credit"
                )
                if payload.get("defaulted")
                else _("The settlement of the swap between %(brand)s and %(other)s is carried as traffic credit")
            )
        elif event.type == EventType.SETTLEMENT_FAILED:
            if payer:  # the decline reason is the payer's alone
                reason = one_line(
                    decline_text(str(payload.get("failure_code") or ""), str(payload.get("failure_message") or ""))
                )[:200]
                return _("The card payment of %(brand)s's settlement with %(other)s did not go through: %(reason)s") % {
                    "brand": one_line(brand.display_name(language)),
                    "other": one_line(other.display_name(language)) if other else "",
                    "reason": reason or _("declined"),
                }
            texts[event.type] = _("A card payment of the settlement between %(brand)s and %(other)s did not go through")
        template = texts.get(event.type)
        if template is None:
            return str(EventType(event.type).label)
        return template % {
            "other": one_line(other.display_name(language)) if other else "",
            "brand": one_line(brand.display_name(language)),
        }
