"""Write side of the partners domain. One class per operation: declared permission, input
decoded, one service call, payload ``{<object>, errors}``. The services validate and decide
object-level permission (own brand, owner only …); their ValidationErrors become ``errors``.
"""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from graphene.types.generic import GenericScalar

from api.core.errors import ApiError
from api.core.ids import brand_for, decode_id
from api.core.mutations import BaseMutation, Permission
from api.core.scalars import BigInt
from api.partners.types import ApiKeyNode, BrandNode, ChannelNode
from partners import selectors, services


# --- inputs (field names mirror the bulk-import JSON, in camelCase) -----------------------------
class ChannelInput(graphene.InputObjectType):
    type = graphene.String(required=True, description="wecom, wechat_group, miniprogram, app, …")
    label = graphene.String()
    size = BigInt(required=True, description="People reached (≥ 0).")
    active_rate = graphene.Float(required=True, description="Share of them active, 0–1.")
    verification = graphene.String(
        description="self_reported (default). Only platform admins may set screenshot / api / audited; "
        "members keep the stored level by sending it back unchanged. Changing size or active rate "
        "resets it to self_reported."
    )


class BrandProfileFields:
    name_en = graphene.String()
    legal_name = graphene.String()
    price_tier = graphene.Int(description="1 (mass) … 5 (luxury).")
    tone = graphene.List(graphene.NonNull(graphene.String), description="Free tags, normalised (年轻 = young).")
    description = graphene.String()
    credit_code = graphene.String(description="Unified social credit code (18 characters).")
    stores = BigInt(description="Number of stores (0 … 2,147,483,647).")
    website = graphene.String()
    audience = GenericScalar(description='{"gender": {...}, "age": {...}, "city_tier": {...}, "regions": [...]}')


class RegisterBrandInput(BrandProfileFields, graphene.InputObjectType):
    slug = graphene.String(required=True)
    name = graphene.String(required=True)
    category = graphene.String(required=True, description="A leaf category code, e.g. beverage.coffee.")
    channels = graphene.List(graphene.NonNull(ChannelInput))


class UpdateBrandProfileInput(BrandProfileFields, graphene.InputObjectType):
    name = graphene.String()
    category = graphene.String()


def _payload(data) -> dict:
    """Only the fields the client sent (absent ≠ null for partial updates), as plain data."""
    out = {}
    for key, value in dict(data).items():
        if isinstance(value, list):
            value = [dict(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out


# --- registration and profile -----------------------------------------------------------------
class RegisterBrand(BaseMutation):
    """Register a brand for review; you become its owner."""

    permission = Permission.USER
    brand = graphene.Field(BrandNode)

    class Arguments:
        input = RegisterBrandInput(required=True)

    @classmethod
    def perform(cls, actor, info, input):
        return {"brand": services.brand_register(actor=actor, data=_payload(input))}


class UpdateBrandProfile(BaseMutation):
    """Change profile fields of your brand (only the fields given)."""

    brand = graphene.Field(BrandNode)

    class Arguments:
        brand = graphene.ID(required=True)
        input = UpdateBrandProfileInput(required=True)

    @classmethod
    def perform(cls, actor, info, brand, input):
        target = brand_for(actor, brand)
        return {"brand": services.brand_update(actor=actor, brand=target, data=_payload(input))}


class SetBrandChannels(BaseMutation):
    """Replace your brand's channels; its scale (activeAudience) is recomputed."""

    brand = graphene.Field(BrandNode)
    channels = graphene.List(graphene.NonNull(ChannelNode))

    class Arguments:
        brand = graphene.ID(required=True)
        channels = graphene.List(graphene.NonNull(ChannelInput), required=True)

    @classmethod
    def perform(cls, actor, info, brand, channels):
        target = brand_for(actor, brand)
        created = services.brand_channels_set(actor=actor, brand=target, channels=[dict(c) for c in channels])
        target.refresh_from_db()
        return {"brand": target, "channels": created}


# --- API keys -------------------------------------------------------------------------------------
class CreateApiKey(BaseMutation):
    """A new key for a partner system (brand owners only). ``key`` is shown here once."""

    permission = Permission.USER
    api_key = graphene.Field(ApiKeyNode)
    key = graphene.String(description="The full secret, hl_<prefix>_<secret>. Store it now: it is never shown again.")

    class Arguments:
        brand = graphene.ID(required=True)
        name = graphene.String(required=True)
        scopes = graphene.List(graphene.NonNull(graphene.String), required=True, description="read and/or write")

    @classmethod
    def perform(cls, actor, info, brand, name, scopes):
        target = brand_for(actor, brand)
        api_key, raw = services.api_key_create(actor=actor, brand=target, name=name, scopes=list(scopes))
        return {"api_key": api_key, "key": raw}


class RevokeApiKey(BaseMutation):
    permission = Permission.USER
    api_key = graphene.Field(ApiKeyNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, id):
        pk = decode_id(id, "ApiKey")
        api_key = selectors.api_key_visible(actor=actor).select_related("brand").filter(pk=pk).first()
        if api_key is None:
            raise ValidationError({"id": ValidationError(_("No such API key."), code=ApiError.NOT_FOUND)})
        return {"api_key": services.api_key_revoke(actor=actor, api_key=api_key)}


# --- approval workflow --------------------------------------------------------------------------
class _Transition(BaseMutation):
    class Meta:
        abstract = True

    permission = Permission.ADMIN
    action = ""
    brand = graphene.Field(BrandNode)

    @classmethod
    def perform(cls, actor, info, brand, reason=""):
        target = brand_for(actor, brand)
        return {"brand": services.brand_transition(actor=actor, brand=target, action=cls.action, reason=reason or "")}


class ApproveBrand(_Transition):
    """Admins: approve a pending brand."""

    action = "approve"

    class Arguments:
        brand = graphene.ID(required=True)
        reason = graphene.String()


class RejectBrand(_Transition):
    """Admins: reject a pending brand (reason required)."""

    action = "reject"

    class Arguments:
        brand = graphene.ID(required=True)
        reason = graphene.String(required=True)


class SuspendBrand(_Transition):
    """Admins: suspend an approved brand (reason required)."""

    action = "suspend"

    class Arguments:
        brand = graphene.ID(required=True)
        reason = graphene.String(required=True)


class ReinstateBrand(_Transition):
    """Admins: reinstate a suspended brand."""

    action = "reinstate"

    class Arguments:
        brand = graphene.ID(required=True)
        reason = graphene.String()


class ResubmitBrand(_Transition):
    """Members: send a rejected brand back for review after editing it."""

    permission = Permission.AUTHENTICATED
    action = "resubmit"

    class Arguments:
        brand = graphene.ID(required=True)


# --- blocklist ------------------------------------------------------------------------------------
class BlockBrand(BaseMutation):
    """Never be matched with the brand ``blockedSlug`` (applies both ways)."""

    brand = graphene.Field(BrandNode)

    class Arguments:
        brand = graphene.ID(required=True)
        blocked_slug = graphene.String(required=True)

    @classmethod
    def perform(cls, actor, info, brand, blocked_slug):
        target = brand_for(actor, brand)
        services.brand_block(actor=actor, brand=target, blocked_slug=blocked_slug)
        return {"brand": target}


class UnblockBrand(BaseMutation):
    brand = graphene.Field(BrandNode)

    class Arguments:
        brand = graphene.ID(required=True)
        blocked_slug = graphene.String(required=True)

    @classmethod
    def perform(cls, actor, info, brand, blocked_slug):
        target = brand_for(actor, brand)
        services.brand_unblock(actor=actor, brand=target, blocked_slug=blocked_slug)
        return {"brand": target}


class PartnersMutation(graphene.ObjectType):
    register_brand = RegisterBrand.Field()
    update_brand_profile = UpdateBrandProfile.Field()
    set_brand_channels = SetBrandChannels.Field()
    create_api_key = CreateApiKey.Field()
    revoke_api_key = RevokeApiKey.Field()
    approve_brand = ApproveBrand.Field()
    reject_brand = RejectBrand.Field()
    suspend_brand = SuspendBrand.Field()
    reinstate_brand = ReinstateBrand.Field()
    resubmit_brand = ResubmitBrand.Field()
    block_brand = BlockBrand.Field()
    unblock_brand = UnblockBrand.Field()
