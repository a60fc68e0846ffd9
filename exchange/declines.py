"""What a card's decline means, in the reader's language (zh-Hans / en).

Stripe's ``decline_code`` / ``code`` is stored with its English message; the text shown to the
payer is chosen here when it is displayed, so each reader gets their own language. A code not
listed shows Stripe's own message (or a generic line when there is none).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DECLINES = {
    "card_declined": gettext_lazy("The card was declined by its bank."),
    "generic_decline": gettext_lazy("The card was declined by its bank."),
    "do_not_honor": gettext_lazy("The card was declined by its bank."),
    "insufficient_funds": gettext_lazy("The card has insufficient funds."),
    "expired_card": gettext_lazy("The card has expired; save a new card on the billing page."),
    "incorrect_cvc": gettext_lazy("The card's security code is incorrect; save the card again."),
    "lost_card": gettext_lazy("The card was reported lost; save another card on the billing page."),
    "stolen_card": gettext_lazy("The card was reported stolen; save another card on the billing page."),
    "processing_error": gettext_lazy("The card's bank had a processing error; try again in a few minutes."),
    "authentication_required": gettext_lazy(
        "The card's bank asked the cardholder to confirm this payment, which cannot be done for a saved card; "
        "save the card again (confirming it) or settle as traffic credit."
    ),
    "stripe_refused": gettext_lazy("The card service refused this payment; nothing was charged."),
}


def decline_text(code: str, message: str = "") -> str:
    """The payer-facing reason of a failed payment with Stripe's ``code`` and ``message``."""
    text = DECLINES.get(code or "")
    if text is not None:
        return str(text)
    return message or _("The payment did not go through.")
