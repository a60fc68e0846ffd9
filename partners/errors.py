"""Error codes of the partners domain.

Services raise ``ValidationError({field: ValidationError(message, code=PartnersError.X)})``;
the same codes reach GraphQL clients (``errors { field code message }``), web forms and
management commands.
"""

from enum import StrEnum


class PartnersError(StrEnum):
    REQUIRED = "required"
    INVALID = "invalid"
    INVALID_CREDIT_CODE = "invalid_credit_code"
    INVALID_DISTRIBUTION = "invalid_distribution"
    INVALID_REGION = "invalid_region"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_CATEGORY = "unknown_category"
    NOT_A_LEAF = "not_a_leaf"
    UNKNOWN_CHANNEL_TYPE = "unknown_channel_type"
    UNKNOWN_BRAND = "unknown_brand"
    DUPLICATE = "duplicate"
    SLUG_TAKEN = "slug_taken"
    INVALID_TRANSITION = "invalid_transition"
    REASON_REQUIRED = "reason_required"
    PERMISSION_DENIED = "permission_denied"
    SELF_BLOCK = "self_block"
    ALREADY_REVOKED = "already_revoked"
    INVALID_SCOPE = "invalid_scope"
    CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self"
    INVALID_IMAGE = "invalid_image"
    TOO_LARGE = "too_large"
