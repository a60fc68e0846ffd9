"""Base mutation: a declared permission, one service call, payload ``{<object>, errors}``.

A mutation subclass declares ``permission`` and implements ``perform(actor, info, **args)``
returning the payload's fields. Domain errors (``ValidationError`` from the service) become
``errors``. Each service runs in its own transaction (a savepoint inside the request's), so a
refused mutation changes nothing. graphene-django's MUTATION_ERRORS_FLAG is deliberately not
used: it would also roll back an earlier mutation of the same document that had already
reported success.
"""

from __future__ import annotations

from enum import StrEnum

import graphene
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from api.core.errors import ApiError, Error, error, errors_from_validation
from api.core.types import actor_of
from partners.actors import Actor
from partners.models import ApiKeyScope


class Permission(StrEnum):
    AUTHENTICATED = "authenticated"  # a signed-in user or a write key; object rules in the service
    USER = "user"  # a signed-in person (not an API key)
    ADMIN = "admin"  # a platform admin


WRITE_SCOPES = (ApiKeyScope.WRITE, ApiKeyScope.EVENTS_WRITE, ApiKeyScope.WEBHOOKS_MANAGE)


def permission_error(actor: Actor, permission: Permission, scope: ApiKeyScope = ApiKeyScope.WRITE) -> Error | None:
    """Why ``actor`` may not call a mutation declaring ``permission`` and, for API keys,
    ``scope`` — or None."""
    if not actor.is_authenticated:
        return error(ApiError.UNAUTHENTICATED, _("Sign in or use an API key to do this."))
    key = actor.api_key
    if key is not None and not key.has_scope(scope):
        if not any(key.has_scope(s) for s in WRITE_SCOPES):
            return error(ApiError.READ_ONLY_KEY, _("This API key is read-only; mutations need a write scope."))
        return error(
            ApiError.INSUFFICIENT_SCOPE,
            _("This API key lacks the “%(scope)s” scope this operation needs.") % {"scope": scope.value},
        )
    if permission == Permission.USER and actor.user is None:
        return error(ApiError.PERMISSION_DENIED, _("Only a signed-in person can do this, not an API key."))
    if permission == Permission.ADMIN and not actor.is_admin:
        return error(ApiError.PERMISSION_DENIED, _("Only platform admins can do this."))
    return None


class BaseMutation(graphene.Mutation):
    class Meta:
        abstract = True

    errors = graphene.List(graphene.NonNull(Error), required=True)

    permission: Permission = Permission.AUTHENTICATED
    # The API-key scope the operation needs (people are checked by ``permission`` and the
    # service). Profile and proposal writes need ``write``; event reports ``events:write``.
    scope: ApiKeyScope = ApiKeyScope.WRITE

    @classmethod
    def perform(cls, actor: Actor, info, **kwargs) -> dict:
        raise NotImplementedError

    @classmethod
    def failed(cls, info, errors: list[Error]):
        return cls(errors=errors)

    @classmethod
    def mutate(cls, root, info, **kwargs):
        actor = actor_of(info)
        denied = permission_error(actor, cls.permission, cls.scope)
        if denied is not None:
            return cls.failed(info, [denied])
        try:
            payload = cls.perform(actor, info, **kwargs)
        except ValidationError as exc:
            return cls.failed(info, errors_from_validation(exc))
        return cls(errors=[], **payload)
