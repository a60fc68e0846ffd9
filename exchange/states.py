"""Proposal states and the transitions between them, as named data (never read by position)."""

from __future__ import annotations

from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    COUNTERED = "countered", _("Countered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


OPEN_STATES = (ProposalState.PROPOSED, ProposalState.COUNTERED)
CLOSED_STATES = (ProposalState.ACCEPTED, ProposalState.DECLINED, ProposalState.WITHDRAWN, ProposalState.EXPIRED)


class Side(models.TextChoices):
    """The two sides of a proposal."""

    INITIATOR = "initiator", _("Initiator")
    COUNTERPARTY = "counterparty", _("Counterparty")


class Who(models.TextChoices):
    """Which side of a proposal may take a transition."""

    TURN = "turn", _("the side whose turn it is")
    INITIATOR = "initiator", _("the initiator")
    SYSTEM = "system", _("the platform")


class Transition(NamedTuple):
    sources: tuple[str, ...]
    target: str
    who: str
    label: str


TRANSITIONS: dict[str, Transition] = {
    "counter": Transition(OPEN_STATES, ProposalState.COUNTERED, Who.TURN, _("Counter")),
    "accept": Transition(OPEN_STATES, ProposalState.ACCEPTED, Who.TURN, _("Accept")),
    "decline": Transition(OPEN_STATES, ProposalState.DECLINED, Who.TURN, _("Decline")),
    "withdraw": Transition(OPEN_STATES, ProposalState.WITHDRAWN, Who.INITIATOR, _("Withdraw")),
    "expire": Transition(OPEN_STATES, ProposalState.EXPIRED, Who.SYSTEM, _("Expire")),
}


class DeclineReason(models.TextChoices):
    """Why a proposal was declined — fed to the matcher as a graded negative outcome."""

    POOR_FIT = "poor_fit", _("Audiences do not fit")
    UNBALANCED = "unbalanced", _("The swap is not balanced")
    TIMING = "timing", _("The timing does not work")
    CAPACITY = "capacity", _("No capacity for this now")
    BRAND_CONCERNS = "brand_concerns", _("Brand or positioning concerns")
    OTHER = "other", _("Other")


# --- campaigns -------------------------------------------------------------------------------
class CampaignState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    COMPLETED = "completed", _("Completed")
    # Reserved for the settlement stage (a disputed delivery report blocks completion).
    DISPUTED = "disputed", _("Disputed")


CAMPAIGN_TRANSITIONS: dict[str, Transition] = {
    "go_live": Transition((CampaignState.SCHEDULED,), CampaignState.LIVE, Who.SYSTEM, _("Go live")),
    "complete": Transition((CampaignState.LIVE,), CampaignState.COMPLETED, Who.SYSTEM, _("Complete")),
}


# --- delivery reports ------------------------------------------------------------------------
class DeliveryState(models.TextChoices):
    """A delivery report: ``reported`` waits for the promoted side, who confirms or disputes it
    before ``confirm_due_at``; silence confirms it (beat). A re-report (while ``reported`` or
    ``disputed``) returns it to ``reported`` with a fresh window."""

    REPORTED = "reported", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    DISPUTED = "disputed", _("Disputed")


class DisputeReason(models.TextChoices):
    REACH_OVERSTATED = "reach_overstated", _("Reach is overstated")
    NOT_DELIVERED = "not_delivered", _("Not delivered")
    WRONG_AUDIENCE = "wrong_audience", _("Shown to the wrong audience")
    LATE = "late", _("Delivered late")
    PROOF_INVALID = "proof_invalid", _("The proof is not valid")
    OTHER = "other", _("Other")
