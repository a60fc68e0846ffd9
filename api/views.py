"""The /graphql/ endpoint.

Authentication: ``Authorization: Bearer hl_…`` authenticates a partner system's API key
(an invalid or revoked key is a 401, never a silent fall-back to anonymous); without it the
Django session is used. Session requests must pass Django's CSRF check (the cookie is the
credential a forged cross-site request would ride on); bearer requests carry their own
credential and are exempt.

Limits: request body size (413), query depth (a validation rule), connection page size (see
api.core.types), JSON nesting (``huiliu.jsonl.MAX_JSON_DEPTH``), and request rates (429
``rate_limited`` with ``Retry-After``, counted before the query is parsed: anonymous callers
per address, API keys per key; a mutation's own limit, such as registerBrand's, raised as
``Throttled`` from its service — huiliu/throttle.py). A malformed request (a body that is not
UTF-8 or not JSON, nested too deeply, a ``query`` / ``variables`` / ``operationName`` of the
wrong type) is a 400 ``bad_request``. Unexpected exceptions are logged and reported as
"internal error" unless DEBUG; GraphQL errors raised on purpose pass through.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from graphene.validation import depth_limit_validator
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, get_operation_ast, parse, specified_rules

from api.core.errors import ApiError
from api.core.validation import cost_error, max_aliases_rule
from huiliu import buckets, jsonl
from huiliu.throttle import Throttled, ThrottleScope, client_ip, throttle
from partners import usage
from partners.models import ApiKeyScope
from partners.services import api_key_authenticate

logger = logging.getLogger("api.graphql")


def _json_error(status: int, code: str, message: str, **extensions) -> HttpResponse:
    body = {"errors": [{"message": str(message), "extensions": {"code": str(code), **extensions}}]}
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="huiliu"'
    return response


def _bad_request(message: str) -> HttpError:
    return HttpError(HttpResponseBadRequest(), str(message))


def _rate_limited(exc: Throttled) -> HttpResponse:
    response = _json_error(429, ApiError.RATE_LIMITED, exc.message, retryAfter=exc.retry_after)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _throttle_caller(request) -> None:
    """Count the request against its caller's limit: an API key's token bucket (its state
    kept on the request for the RateLimit-* headers), or an anonymous caller's address.
    Signed-in people are limited per operation (registerBrand …)."""
    request.rate_bucket = None
    if request.api_key is not None:
        rate = usage.key_rate(request.api_key)
        bucket = buckets.take(f"key:{request.api_key.pk}", capacity=rate.burst, per_minute=rate.per_minute)
        request.rate_bucket = bucket
        if bucket is not None and not bucket.allowed:
            raise Throttled("api_key", bucket.retry_after)
    elif not request.user.is_authenticated:
        throttle(ThrottleScope.GRAPHQL_ANONYMOUS, f"ip:{client_ip(request)}")


def _rate_headers(request, response) -> None:
    """IETF RateLimit header fields for API-key callers: the bucket's size, what is left, and
    in how many seconds it is full again; ``RateLimit-Policy`` names the refill rate."""
    bucket = getattr(request, "rate_bucket", None)
    if bucket is None:
        return
    response["RateLimit-Limit"] = str(bucket.capacity)
    response["RateLimit-Remaining"] = str(bucket.remaining)
    response["RateLimit-Reset"] = str(bucket.reset)
    window = max(1, round(bucket.capacity * 60 / bucket.per_minute))
    response["RateLimit-Policy"] = f"{bucket.capacity};w={window};burst={bucket.capacity};rate={bucket.per_minute}/m"


# Root query fields a key may read without the `read` scope: who it is, and what its other
# scopes manage. Everything else a brand can see needs `read` (implied by `write`).
_READ_FREE = frozenset({"viewer", "__typename", "__schema", "__type"})
_SCOPE_READS = {ApiKeyScope.WEBHOOKS_MANAGE: frozenset({"webhookEndpoints", "webhookEndpoint"})}


def _read_scope_error(document, operation_name, api_key) -> GraphQLError | None:
    """Least privilege for reads: a key without `read` (an `events:write` key of a shop, say)
    may not query the brand's data — only ``viewer``, and what its own scopes manage."""
    if api_key is None or api_key.has_scope(ApiKeyScope.READ) or api_key.has_scope(ApiKeyScope.WRITE):
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return None
    allowed = set(_READ_FREE)
    for scope, fields in _SCOPE_READS.items():
        if api_key.has_scope(scope):
            allowed |= fields
    roots = [s for s in operation.selection_set.selections]
    if all(s.kind == "field" and s.name.value in allowed for s in roots):
        return None
    return GraphQLError(
        _("This API key cannot read the brand's data; that needs the “read” scope."),
        extensions={"code": ApiError.INSUFFICIENT_SCOPE.value},
    )


def _is_expected(error: Exception) -> bool:
    """Errors meant for the client: GraphQL errors raised on purpose, parse and validation
    errors. Anything else reaching the client is a bug and is masked."""
    if not isinstance(error, GraphQLError):
        return False
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


# GraphiQL (DEBUG only) loads its bundle from a CDN and starts with an inline script and style:
# its page alone gets the policy loosened that far; every other page keeps the strict one.
GRAPHIQL_CSP = {
    "script-src": ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net"],
    "style-src": ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net"],
}


class HuiliuGraphQLView(GraphQLView):
    def render_graphiql(self, request, **data):
        response = super().render_graphiql(request, **data)
        response._csp_replace = GRAPHIQL_CSP
        return response

    @method_decorator(csrf_exempt)  # checked below, for session requests only
    def dispatch(self, request, *args, **kwargs):
        self.graphiql = bool(settings.GRAPHIQL_ENABLED)
        # validate() uses exactly the rules given, so keep the standard ones and add depth.
        self.validation_rules = (
            *specified_rules,
            depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH),
            max_aliases_rule(settings.GRAPHQL_MAX_ALIASES),
        )

        too_large = self._check_size(request)
        if too_large is not None:
            return too_large

        request.api_key = None
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _sep, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _json_error(401, ApiError.UNAUTHENTICATED, _("Use `Authorization: Bearer <API key>`."))
            api_key = api_key_authenticate(token.strip())
            if api_key is None:
                try:  # guessing keys counts as anonymous calls
                    throttle(ThrottleScope.GRAPHQL_ANONYMOUS, f"ip:{client_ip(request)}")
                except Throttled as exc:
                    return _rate_limited(exc)
                return _json_error(401, ApiError.UNAUTHENTICATED, _("Invalid or revoked API key."))
            # The key acts alone: a session cookie sent along with it is ignored.
            request.api_key = api_key
            request.user = AnonymousUser()
        elif request.method == "POST" and request.user.is_authenticated:
            rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if rejected is not None:
                return _json_error(403, ApiError.CSRF_FAILED, _("CSRF check failed; send the X-CSRFToken header."))
        try:
            _throttle_caller(request)
        except Throttled as exc:
            response = _rate_limited(exc)
            self._count_usage(request, response)
            return response
        self.retry_after = 0  # set by format_error when an operation was throttled
        self.had_errors = False  # set by format_error: the request answered with top-level errors
        response = super().dispatch(request, *args, **kwargs)
        if self.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(self.retry_after)
        self._count_usage(request, response)
        return response

    def _count_usage(self, request, response) -> None:
        _rate_headers(request, response)
        if request.api_key is not None:
            failed = response.status_code >= 400 or getattr(self, "had_errors", False)
            usage.usage_count(request.api_key.pk, error=failed)

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        # The cost is checked before validation (and the depth rule, which expands fragments)
        # and depends on the request's variables (`first: $n`). A document that does not parse
        # is left to the parent, which reports the syntax error.
        if query:
            try:
                document = parse(query)
            except GraphQLError:
                document = None
            if document is not None:
                refused = cost_error(
                    document,
                    self.schema.graphql_schema,
                    budget=settings.GRAPHQL_MAX_COST,
                    variables=variables if isinstance(variables, dict) else None,
                )
                if refused is None:
                    refused = _read_scope_error(document, operation_name, request.api_key)
                if refused is not None:
                    return ExecutionResult(data=None, errors=[refused])
        return super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)

    @staticmethod
    def _check_size(request) -> HttpResponse | None:
        limit = settings.GRAPHQL_MAX_REQUEST_BYTES
        message = _("Request too large (limit %(n)d bytes).") % {"n": limit}
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit or len(request.META.get("QUERY_STRING", "")) > limit:
            return _json_error(413, ApiError.REQUEST_TOO_LARGE, message)
        if request.method == "POST" and not declared and len(request.body) > limit:
            return _json_error(413, ApiError.REQUEST_TOO_LARGE, message)
        return None

    def parse_body(self, request):
        content_type = self.get_content_type(request)
        if content_type not in ("application/json", "application/graphql"):
            return super().parse_body(request)
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_request(_("The request body is not UTF-8 text.")) from None
        if content_type == "application/graphql":
            return {"query": body}
        try:
            data = jsonl.loads(body)
        except jsonl.JsonTooDeep as exc:
            raise _bad_request(exc) from None
        except ValueError:
            raise _bad_request(_("The request body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise _bad_request(_("The request body must be a JSON object with a `query`."))
        return data

    @staticmethod
    def get_graphql_params(request, data):
        # The parent parses a `variables` string (catching every error, RecursionError too).
        query, variables, operation_name, id_ = GraphQLView.get_graphql_params(request, data)
        if query is not None and not isinstance(query, str):
            raise _bad_request(_("`query` must be a string."))
        if operation_name is not None and not isinstance(operation_name, str):
            raise _bad_request(_("`operationName` must be a string."))
        if variables in ("", None):
            variables = None
        elif not isinstance(variables, dict):
            raise _bad_request(_("`variables` must be a JSON object."))
        try:
            jsonl.check_depth(variables)
        except jsonl.JsonTooDeep as exc:
            raise _bad_request(exc) from None
        return query, variables, operation_name, id_

    def format_error(self, error):
        self.had_errors = True
        if isinstance(error, HttpError):  # bad request shape: no query, bad variables JSON …
            return {"message": str(error.message), "extensions": {"code": "bad_request"}}
        if _is_expected(error):
            return GraphQLView.format_error(error)
        original = getattr(error, "original_error", None) or error
        if isinstance(original, Throttled):
            self.retry_after = max(getattr(self, "retry_after", 0), original.retry_after)
            formatted = GraphQLView.format_error(error)
            formatted["message"] = original.message
            formatted["extensions"] = {"code": ApiError.RATE_LIMITED.value, "retryAfter": original.retry_after}
            return formatted
        logger.error(
            "unexpected error in GraphQL request: %s",
            original,
            exc_info=(type(original), original, original.__traceback__),
        )
        if settings.DEBUG:
            return GraphQLView.format_error(error)
        formatted = {"message": _("internal error"), "extensions": {"code": ApiError.INTERNAL_ERROR.value}}
        if isinstance(error, GraphQLError):
            if error.locations:
                formatted["locations"] = [loc._asdict() for loc in error.locations]
            if error.path:
                formatted["path"] = error.path
        return formatted
