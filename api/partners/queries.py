"""Read side of the partners domain: viewer, me, my brands, the marketplace, one brand, categories,
my brand's channels. Resolvers are thin: decode input, call a selector."""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from graphene_django import DjangoListField
from graphql import GraphQLError

from api.core.errors import graphql_error_from
from api.core.ids import decode_id
from api.core.types import ScopedConnectionField, actor_of
from api.partners.filters import BRAND_LIST_ARGS, brand_list_filters, checked_text
from api.partners.types import (
    BrandNode,
    CategoryNode,
    ChannelNode,
    UserNode,
    with_brand_prefetches,
)
from api.partners.viewer import Viewer
from partners import selectors


class PartnersQuery(graphene.ObjectType):
    viewer = graphene.Field(
        graphene.NonNull(Viewer),
        description="Who is calling: a person, an API key (with its brand, scopes and prefix) or nobody.",
    )
    me = graphene.Field(
        UserNode, description="The signed-in person; null for anonymous callers and API keys (see `viewer`)."
    )
    my_brands = DjangoListField(BrandNode, required=True)
    brands = ScopedConnectionField(BrandNode, description="Approved brands' public profiles.", **BRAND_LIST_ARGS)
    brand = graphene.Field(BrandNode, slug=graphene.String(), id=graphene.ID())
    categories = DjangoListField(CategoryNode, required=True, leaves_only=graphene.Boolean(default_value=False))
    channels = DjangoListField(
        ChannelNode,
        required=True,
        brand=graphene.ID(required=True),
        description="Your brand's channels (empty for a brand you are not a member of).",
    )

    def resolve_viewer(root, info):
        return actor_of(info)

    def resolve_me(root, info):
        actor = actor_of(info)
        return actor.user  # None for anonymous and for API keys

    def resolve_my_brands(root, info):
        return with_brand_prefetches(selectors.brand_mine(actor=actor_of(info)), info)

    def resolve_brands(root, info, **kwargs):
        try:
            filters = brand_list_filters(kwargs)
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return with_brand_prefetches(selectors.brand_marketplace(actor=actor_of(info), **filters), info)

    def resolve_brand(root, info, slug=None, id=None):
        if (slug is None) == (id is None):
            raise GraphQLError(_("Pass exactly one of `slug` or `id`."), extensions={"code": "invalid"})
        pk = None
        try:
            if id is not None:
                pk = decode_id(id, "Brand")
            else:
                slug = checked_text(slug, "slug")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return selectors.brand_get(actor=actor_of(info), slug=slug, pk=pk)

    def resolve_categories(root, info, leaves_only=False):
        return selectors.category_list(leaves_only=leaves_only)

    def resolve_channels(root, info, brand):
        actor = actor_of(info)
        try:
            pk = decode_id(brand, "Brand", field="brand")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        found = selectors.brand_get(actor=actor, pk=pk)
        if found is None:
            return []
        return selectors.channel_list(actor=actor, brand=found)
