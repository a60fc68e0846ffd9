"""Partners domain: brands and their audiences, users and roles, taxonomy, API keys, audit."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person. Platform admins are staff users; brand roles come from Membership."""

    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    # The language e-mails are written in: the one the person last chose in the web UI
    # (empty → the site default, zh-hans).
    language = models.CharField(_("language"), max_length=10, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.email or self.username


class Category(models.Model):
    """A node of the taxonomy; ``code`` is a dotted path (``beverage.coffee``)."""

    code = models.CharField(max_length=80, unique=True)
    name_zh = models.CharField(max_length=80)
    name_en = models.CharField(max_length=80)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    is_leaf = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.code

    def name(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") else self.name_zh

    def path_codes(self) -> list[str]:
        """This code and every ancestor's (``a.b`` → ``["a.b", "a"]``)."""
        parts = self.code.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


class CompetitionRule(models.Model):
    """Brands in these two categories (or their descendants) compete. Symmetric.

    Stored with ``category_a.code < category_b.code`` so a pair exists once.
    """

    category_a = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    category_b = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category_a", "category_b"], name="competition_rule_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.category_a.code} ⚔ {self.category_b.code}"


class BrandStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Brand(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    legal_name = models.CharField(_("legal entity"), max_length=200, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="brands")
    price_tier = models.PositiveSmallIntegerField(_("price tier"), default=3)
    tone_tags = models.JSONField(_("tone tags"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    # {"gender": {...}, "age": {...}, "city_tier": {...}, "regions": [...]} — see validation.py
    audience = models.JSONField(_("audience profile"), default=dict, blank=True)
    store_count = models.PositiveIntegerField(_("stores"), default=0)
    website = models.URLField(blank=True)

    status = models.CharField(max_length=12, choices=BrandStatus.choices, default=BrandStatus.PENDING, db_index=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    # Scale = Σ channel size × active rate. Kept in step by the channel services so lists
    # and the matcher can sort and filter on it without summing channels per row.
    active_audience = models.BigIntegerField(default=0, db_index=True)

    created_at = models.DateTimeField(default=timezone.now)
    # Indexed: the matcher's per-process market cache re-reads "brands changed since".
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "category"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == BrandStatus.APPROVED

    def display_name(self, language: str = "zh-hans") -> str:
        return (self.name_en or self.name) if language.startswith("en") else self.name


class ChannelType(models.TextChoices):
    WECOM = "wecom", _("WeCom contacts")
    WECHAT_GROUP = "wechat_group", _("WeChat groups")
    OFFICIAL_ACCOUNT = "official_account", _("Official account")
    MINIPROGRAM = "miniprogram", _("Mini-program members")
    APP = "app", _("App users")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    DOUYIN = "douyin", _("Douyin")
    KUAISHOU = "kuaishou", _("Kuaishou")
    VIDEO_CHANNEL = "video_channel", _("WeChat Channels")
    XIAOHONGSHU = "xiaohongshu", _("Xiaohongshu")
    WEIBO = "weibo", _("Weibo")
    STORE = "store", _("Stores")
    PACKAGE_INSERT = "package_insert", _("Parcel inserts")


class Verification(models.TextChoices):
    SELF_REPORTED = "self_reported", _("Self-reported")
    SCREENSHOT = "screenshot", _("Screenshot reviewed")
    API = "api", _("Verified through API")
    AUDITED = "audited", _("Audited by platform")


class Channel(models.Model):
    """One owned audience of a brand."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="channels")
    type = models.CharField(max_length=20, choices=ChannelType.choices)
    label = models.CharField(max_length=80, blank=True)
    size = models.BigIntegerField(default=0)
    active_rate = models.FloatField(default=0.0)
    verification = models.CharField(max_length=16, choices=Verification.choices, default=Verification.SELF_REPORTED)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["brand_id", "type", "label"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="channel_size_non_negative"),
            models.CheckConstraint(
                condition=Q(active_rate__gte=0) & Q(active_rate__lte=1), name="channel_active_rate_0_1"
            ),
            models.UniqueConstraint(fields=["brand", "type", "label"], name="channel_unique_per_brand"),
        ]

    def __str__(self) -> str:
        return f"{self.brand.slug}:{self.type}"

    @property
    def active_size(self) -> int:
        return round(self.size * self.active_rate)


class BrandBlock(models.Model):
    """``brand`` refuses to be matched with ``blocked`` (and so, symmetrically, the reverse)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "blocked"], name="brand_block_unique"),
            models.CheckConstraint(condition=~Q(brand=models.F("blocked")), name="brand_block_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} ⊘ {self.blocked_id}"


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MARKETER = "marketer", _("Marketer")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MARKETER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.brand_id} ({self.role})"


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiKey(models.Model):
    """A partner system's key. The secret is shown once; only its SHA-256 is stored.

    Full key: ``hl_<prefix>_<secret>``; ``prefix`` finds the row, the hash proves the secret.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (hl_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class AuditAction(models.TextChoices):
    """Every audited action, in the past tense, with the label people see in histories.

    One class for the whole platform (partners, matching and exchange actions alike): the
    audit trail is one table and one vocabulary, so no code is ever matched as a literal.
    """

    # brands
    BRAND_REGISTERED = "brand.registered", _("Registered and submitted for review")
    BRAND_IMPORTED = "brand.imported", _("Imported by the platform")
    BRAND_UPDATED = "brand.updated", _("Profile updated")
    BRAND_KYB_CHANGED = "brand.kyb_changed", _("Legal identity changed, back to review")
    BRAND_CHANNELS_SET = "brand.channels_set", _("Channels updated")
    BRAND_APPROVED = "brand.approved", _("Approved")
    BRAND_REJECTED = "brand.rejected", _("Rejected")
    BRAND_SUSPENDED = "brand.suspended", _("Suspended")
    BRAND_REINSTATED = "brand.reinstated", _("Reinstated")
    BRAND_RESUBMITTED = "brand.resubmitted", _("Resubmitted for review")
    BRAND_BLOCKED = "brand.blocked", _("Blocked a brand")
    BRAND_UNBLOCKED = "brand.unblocked", _("Unblocked a brand")
    # taxonomy, team, keys
    COMPETITION_RULE_CREATED = "competition_rule.created", _("Competition rule added")
    COMPETITION_RULE_DELETED = "competition_rule.deleted", _("Competition rule removed")
    MEMBERSHIP_SET = "membership.set", _("Team member added")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    # matching
    RECOMMENDATION_DISMISSED = "recommendation.dismissed", _("Dismissed a recommended partner")
    MATCHER_TRAINING_STARTED = "matcher.training_started", _("Matcher training started")
    MATCHER_MODEL_ACTIVATED = "matcher.model_activated", _("Matcher model activated")
    # exchange
    CHANNEL_RATE_SET = "channel_rate.set", _("Channel rate changed")
    PROPOSAL_CREATED = "proposal.created", _("Proposed a swap")
    PROPOSAL_COUNTERED = "proposal.countered", _("Countered a swap proposal")
    PROPOSAL_ACCEPTED = "proposal.accepted", _("Accepted a swap proposal")
    PROPOSAL_DECLINED = "proposal.declined", _("Declined a swap proposal")
    PROPOSAL_WITHDRAWN = "proposal.withdrawn", _("Withdrew a swap proposal")
    PROPOSAL_EXPIRED = "proposal.expired", _("Swap proposal expired")
    CAMPAIGN_CREATED = "campaign.created", _("Swap campaign created")
    CAMPAIGN_LIVE = "campaign.live", _("Swap campaign went live")
    CAMPAIGN_COMPLETED = "campaign.completed", _("Swap campaign completed")
    CAMPAIGN_LANDING_SET = "campaign.landing_set", _("Campaign landing page changed")


class AuditEvent(models.Model):
    """Who did what to which object, when and why. Append-only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40, choices=AuditAction.choices, db_index=True)
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events")
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set when the brand's members were e-mailed about this event; claimed before sending so
    # a retried task never mails twice.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
