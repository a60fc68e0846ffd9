"""Error codes of the matching domain (the same codes reach GraphQL, web forms and commands)."""

from enum import StrEnum


class MatchingError(StrEnum):
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    REQUIRED = "required"
    UNKNOWN_BRAND = "unknown_brand"
    SELF_PAIR = "self_pair"
    INVALID_OUTCOME = "invalid_outcome"
    NOT_ENOUGH_OUTCOMES = "not_enough_outcomes"
    TRAINING_IN_PROGRESS = "training_in_progress"
