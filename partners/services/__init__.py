"""State changes of the partners domain. Each service runs in one transaction, validates
its input, writes an AuditEvent and schedules side effects on commit.

Errors are ``ValidationError`` keyed by field with codes from ``partners.errors``.

One module per sub-domain; every public name is re-exported here, so callers keep writing
``from partners import services; services.brand_update(...)``:

* ``users`` — person accounts (``user_signup``, ``user_set_active``)
* ``brands`` — registration and profile edits (``brand_register``, ``brand_update``)
* ``channels`` — a brand's channels and who may vouch for their numbers
* ``approval`` — the status workflow (``TRANSITIONS``, ``brand_transition`` …)
* ``blocks`` — a brand's blocklist
* ``competition`` — competition rules between categories (admins)
* ``memberships`` — a brand's team
* ``keys`` — API keys
* ``logos`` — a brand's logo (``brand_logo_set``)
* ``audit`` — the audit trail's one writer (matching and the exchange use it too)
"""

from partners.services.approval import (
    TRANSITION_LABELS,
    TRANSITIONS,
    Transition,
    brand_approve,
    brand_reinstate,
    brand_reject,
    brand_resubmit,
    brand_suspend,
    brand_transition,
)
from partners.services.audit import audit
from partners.services.blocks import brand_block, brand_unblock
from partners.services.brands import (
    KYB_FIELDS,
    brand_register,
    brand_update,
    brand_update_clean,
    brand_update_needs_review,
)
from partners.services.channels import brand_channels_set
from partners.services.competition import COMPETITION_NOTIFY_EACH_MAX, competition_rule_create, competition_rule_delete
from partners.services.keys import (
    API_KEY_PREFIX_BYTES,
    LAST_USED_RESOLUTION,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from partners.services.logos import brand_logo_set
from partners.services.memberships import membership_add, membership_set
from partners.services.users import user_set_active, user_signup

__all__ = [
    "API_KEY_PREFIX_BYTES",
    "COMPETITION_NOTIFY_EACH_MAX",
    "KYB_FIELDS",
    "LAST_USED_RESOLUTION",
    "TRANSITIONS",
    "TRANSITION_LABELS",
    "Transition",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "audit",
    "brand_approve",
    "brand_block",
    "brand_channels_set",
    "brand_logo_set",
    "brand_register",
    "brand_reinstate",
    "brand_reject",
    "brand_resubmit",
    "brand_suspend",
    "brand_transition",
    "brand_unblock",
    "brand_update",
    "brand_update_clean",
    "brand_update_needs_review",
    "competition_rule_create",
    "competition_rule_delete",
    "membership_add",
    "membership_set",
    "user_set_active",
    "user_signup",
]
