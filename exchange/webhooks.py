"""Webhook signing and payloads, per the Standard Webhooks specification
(https://www.standardwebhooks.com/, docs/WEBHOOKS.md).

* Secrets: ``whsec_`` + base64 of 32 random bytes; the HMAC key is the decoded bytes. Stored
  encrypted with Fernet (``cryptography``) under a key derived from WEBHOOK_SECRET_KEY (or
  SECRET_KEY); older keys in WEBHOOK_SECRET_KEYS_OLD still decrypt (MultiFernet), so the key
  can be rotated and the rows re-encrypted (``manage.py webhooks_reencrypt``).
* Headers: ``webhook-id`` (``msg_<event id>``, the same for every retry and replay, so
  receivers deduplicate), ``webhook-timestamp`` (Unix seconds of this attempt) and
  ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, one per
  secret currently signing, space-separated.
* Payloads: ``{"type", "version", "timestamp", "data"}`` built from the outbox's DomainEvent,
  ids as the GraphQL API's global ids. Only what the two parties of a proposal already see in
  their inbox goes out: the event's own fields, per type; an event type without a builder
  sends its scalar fields only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from graphql_relay import to_global_id

from exchange import conf
from exchange.models import DomainEvent, EventType

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
PAYLOAD_VERSION = 1


# --- secrets ------------------------------------------------------------------------------------
def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def _fernet_for(material: str) -> Fernet:
    # A dedicated key for this purpose, derived from the setting (domain-separated, so the
    # Fernet key is never SECRET_KEY itself).
    digest = hashlib.sha256(b"huiliu.webhooks.secret:" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet() -> MultiFernet:
    return MultiFernet([_fernet_for(m) for m in conf.webhook_secret_keys()])


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    """The secret in ``token``; raises cryptography's InvalidToken if no configured key opens it."""
    return _fernet().decrypt(token.encode()).decode()


def reencrypt_secret(token: str) -> str:
    """``token`` re-encrypted under the current key (for rotating WEBHOOK_SECRET_KEY)."""
    return _fernet().rotate(token.encode()).decode()


# --- signing ------------------------------------------------------------------------------------
def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(*, secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt, signed with every secret given."""
    signatures = " ".join(sign(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "Huiliu-Webhooks/1",
    }


# --- payloads -----------------------------------------------------------------------------------
# The GraphQL type of each object a payload names (api/exchange/types.py exposes them so).
# Campaign, CampaignLeg, DeliveryReport and ReportedEvent are the names the campaign, delivery and
# reported-event slices give their types.
GRAPHQL_TYPES = {
    "proposal": "Proposal",
    "message": "ProposalMessage",
    "placement": "Placement",
    "campaign": "Campaign",
    "leg": "CampaignLeg",
    "report": "DeliveryReport",
    "event": "ReportedEvent",
    "settlement": "Settlement",
    "dispute": "Dispute",
}


def _gid(type_name: str, pk: Any) -> str | None:
    return to_global_id(type_name, pk) if pk is not None else None


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _acted_by(event: DomainEvent) -> str | None:
    """Which party caused the event ("initiator" / "counterparty"), None for the platform."""
    proposal = event.proposal
    if event.actor_brand_id is None or proposal is None:
        return None
    if event.actor_brand_id == proposal.initiator_id:
        return "initiator"
    if event.actor_brand_id == proposal.counterparty_id:
        return "counterparty"
    return None


# Per event type, the outbox payload's fields that go out (beside the common ones). The two
# parties see all of them already (the inbox, the proposal page).
_PROPOSAL = ("revision", "state", "initiator", "counterparty")
_VALUES = ("initiator_value_cents", "counterparty_value_cents")
_CAMPAIGN = ("campaign", "state", "brand_a", "brand_b", "starts_at", "ends_at")
_DELIVERY = (
    "campaign",
    "report",
    "placement",
    "leg",
    "promoter",
    "promoted",
    "state",
    "version",
    "reach",
    "promised",
    "unit",
    "delivered_at",
    "confirm_due_at",
    "dispute_reason",
)
_CONFIRMED = ("campaign", "leg", "count")
# Not the reporter's external id: the other party receives this too.
_REVERSED = ("campaign", "leg", "event", "reason", "amount_cents", "currency")
_SETTLEMENT = (
    "settlement",
    "campaign",
    "state",
    "payer",
    "payee",
    "gap_value_cents",
    "cash_cents",
    "fee_cents",
    "currency",
    "choose_by",
)
_DISPUTE = ("dispute", "campaign", "subject", "report", "state", "reason", "opened_by", "respondent", "outcome")
FIELDS: dict[str, tuple[str, ...]] = {
    EventType.PROPOSAL_CREATED: (*_PROPOSAL, *_VALUES),
    EventType.PROPOSAL_COUNTERED: (*_PROPOSAL, *_VALUES),
    EventType.PROPOSAL_ACCEPTED: (*_PROPOSAL, *_VALUES),
    EventType.PROPOSAL_DECLINED: (*_PROPOSAL, "reason", "note"),
    EventType.PROPOSAL_WITHDRAWN: _PROPOSAL,
    EventType.PROPOSAL_EXPIRED: _PROPOSAL,
    EventType.PROPOSAL_MESSAGE: (*_PROPOSAL, "message", "preview"),
    EventType.CAMPAIGN_LIVE: _CAMPAIGN,
    EventType.CAMPAIGN_COMPLETED: _CAMPAIGN,
    EventType.DELIVERY_REPORTED: _DELIVERY,
    EventType.DELIVERY_CONFIRMED: _DELIVERY,
    EventType.DELIVERY_DISPUTED: _DELIVERY,
    EventType.CONVERSIONS_CONFIRMED: _CONFIRMED,
    EventType.MEMBERS_CONFIRMED: _CONFIRMED,
    EventType.CONVERSION_REVERSED: _REVERSED,
    EventType.MEMBER_REVERSED: _REVERSED,
    EventType.SETTLEMENT_OPENED: _SETTLEMENT,
    EventType.SETTLEMENT_PAID: (*_SETTLEMENT, "amount_cents"),
    EventType.SETTLEMENT_FAILED: (*_SETTLEMENT, "failure_code", "failure_message"),
    EventType.SETTLEMENT_CREDITED: (*_SETTLEMENT, "defaulted"),
    EventType.SETTLEMENT_REFUNDED: (*_SETTLEMENT, "refund_cents"),
    # after a decision on a paid settlement, also: the corrected gap, who owes it as traffic
    # credit (owed_by) and how much, and the value refunded to the payer
    EventType.SETTLEMENT_UPDATED: (
        *_SETTLEMENT,
        "change",
        "corrected_gap_value_cents",
        "owed_by",
        "credit_value_cents",
        "refund_value_cents",
    ),
    EventType.DISPUTE_OPENED: _DISPUTE,
    EventType.DISPUTE_ANSWERED: _DISPUTE,
    EventType.DISPUTE_EVIDENCE_ADDED: (*_DISPUTE, "side", "evidence"),
    EventType.DISPUTE_RESOLVED: _DISPUTE,
    EventType.BRAND_STATUS_CHANGED: ("brand", "previous", "status", "reason"),
}


def _value(key: str, value: Any) -> Any:
    if key in GRAPHQL_TYPES and value is not None and not isinstance(value, str):
        return _gid(GRAPHQL_TYPES[key], value)
    return value


# Fields only the paying brand's endpoints receive (a card's decline reason is the payer's own
# business): the other party's endpoints get the event without them.
PAYER_ONLY = {EventType.SETTLEMENT_FAILED: ("failure_code", "failure_message")}


def payload_data(event: DomainEvent, *, for_brand: str | None = None) -> dict[str, Any]:
    """The ``data`` object of ``event``'s webhook. Common fields: ``webhook_id`` (as the header),
    ``proposal`` (its global id or null) and ``acted_by``; then the type's fields (those of
    FIELDS the outbox row has). An event type added later without an entry in FIELDS sends its
    scalar fields (lists and objects are left out)."""
    raw = event.payload or {}
    data: dict[str, Any] = {
        "webhook_id": f"msg_{event.pk}",
        "proposal": _gid("Proposal", event.proposal_id),
        "acted_by": _acted_by(event),
    }
    keys = FIELDS.get(event.type)
    if keys is None:
        keys = tuple(k for k, v in raw.items() if _scalar(v) and k not in data)
    private = PAYER_ONLY.get(event.type, ()) if for_brand is not None and for_brand != raw.get("payer") else ()
    for key in keys:
        if key in raw and key != "proposal" and key not in private:
            data[key] = _value(key, raw[key])
    return data


def payload(event: DomainEvent, *, for_brand: str | None = None) -> dict[str, Any]:
    """The webhook body of ``event`` as sent to an endpoint of the brand ``for_brand`` (its
    slug; None: the whole event, as documented)."""
    return {
        "type": event.type,
        "version": PAYLOAD_VERSION,
        "timestamp": _iso(event.created_at),
        "data": payload_data(event, for_brand=for_brand),
    }


def body_of(event: DomainEvent, *, for_brand: str | None = None) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in a stable order."""
    return json.dumps(payload(event, for_brand=for_brand), ensure_ascii=False, separators=(",", ":")).encode()
