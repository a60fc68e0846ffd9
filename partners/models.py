"""Partners domain: brands and their audiences, users and roles, taxonomy, API keys, audit."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from partners.logos import logo_upload_to


class User(AbstractUser):
    """A person. Platform admins are staff users; brand roles come from Membership."""

    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    # The language e-mails are written in: the one the person last chose in the web UI
    # (empty → the site default, zh-hans).
    language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user account")
        verbose_name_plural = _("user accounts")

    def __str__(self) -> str:
        return self.display_name or self.email or self.username


class Category(models.Model):
    """A node of the taxonomy; ``code`` is a dotted path (``beverage.coffee``)."""

    code = models.CharField(_("code"), max_length=80, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent category"),
    )
    is_leaf = models.BooleanField(_("leaf (brands can be filed here)"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        # The name people read, in the active language, and the code that identifies it.
        return f"{self.name(get_language() or 'zh-hans')} ({self.code})"

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

    category_a = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", verbose_name=_("category"))
    category_b = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="+", verbose_name=_("competes with category")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("competition rule")
        verbose_name_plural = _("competition rules")
        constraints = [
            models.UniqueConstraint(fields=["category_a", "category_b"], name="competition_rule_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.category_a} ⚔ {self.category_b}"


class BrandStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Brand(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    legal_name = models.CharField(_("legal entity"), max_length=200, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="brands", verbose_name=_("category"))
    price_tier = models.PositiveSmallIntegerField(_("price tier"), default=3)
    tone_tags = models.JSONField(_("tone tags"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    # {"gender": {...}, "age": {...}, "city_tier": {...}, "regions": [...]} — see validation.py
    audience = models.JSONField(_("audience profile"), default=dict, blank=True)
    store_count = models.PositiveIntegerField(_("stores"), default=0)
    website = models.URLField(_("website"), blank=True)
    # PNG, JPEG or WebP, ≤ 512 KB, checked by content (partners.logos); set through
    # services.brand_logo_set. Empty: pages show the name's first character instead.
    logo = models.FileField(_("logo"), upload_to=logo_upload_to, max_length=200, blank=True)

    status = models.CharField(
        _("status"), max_length=12, choices=BrandStatus.choices, default=BrandStatus.PENDING, db_index=True
    )
    status_reason = models.TextField(_("reason for the status"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    # Set by a platform admin for a partner that needs more than the default API rate.
    api_rate_per_minute = models.PositiveIntegerField(
        _("API requests per minute per key"),
        null=True,
        blank=True,
        help_text=_("Empty: the platform default. Raising it raises every key's burst in proportion."),
    )
    submitted_at = models.DateTimeField(_("submitted for review"), default=timezone.now)

    # Scale = Σ channel size × active rate. Kept in step by the channel services so lists
    # and the matcher can sort and filter on it without summing channels per row.
    active_audience = models.BigIntegerField(_("active audience"), default=0, db_index=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Indexed: the matcher's per-process market cache re-reads "brands changed since".
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
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

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="channels", verbose_name=_("brand"))
    type = models.CharField(_("channel type"), max_length=20, choices=ChannelType.choices)
    label = models.CharField(_("label"), max_length=80, blank=True)
    size = models.BigIntegerField(_("size"), default=0)
    active_rate = models.FloatField(_("active rate"), default=0.0)
    verification = models.CharField(
        _("verification"), max_length=16, choices=Verification.choices, default=Verification.SELF_REPORTED
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["brand_id", "type", "label"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="channel_size_non_negative"),
            models.CheckConstraint(
                condition=Q(active_rate__gte=0) & Q(active_rate__lte=1), name="channel_active_rate_0_1"
            ),
            models.UniqueConstraint(fields=["brand", "type", "label"], name="channel_unique_per_brand"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.label}" if self.label else str(self.get_type_display())

    @property
    def active_size(self) -> int:
        return round(self.size * self.active_rate)


class BrandBlock(models.Model):
    """``brand`` refuses to be matched with ``blocked`` (and so, symmetrically, the reverse)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="blocks", verbose_name=_("brand"))
    blocked = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="blocked_by", verbose_name=_("blocked brand")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("brand block")
        verbose_name_plural = _("brand blocks")
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
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("brand"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MARKETER)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class ApiKeyScope(models.TextChoices):
    """What a key may do, least privilege first: every mutation declares the scope it needs
    (api.core.mutations.BaseMutation.scope). ``write`` implies ``read``; the others do not, so a
    point-of-sale system can hold a key that reports orders and nothing else."""

    READ = "read", _("Read")
    WRITE = "write", _("Write (profile, proposals)")
    EVENTS_WRITE = "events:write", _("Report events (conversions, new members, deliveries)")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhooks")


class ApiKey(models.Model):
    """A partner system's key. The secret is shown once; only its SHA-256 is stored.

    Full key: ``hl_<prefix>_<secret>``; ``prefix`` finds the row, the hash proves the secret.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("brand"))
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

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
    BRAND_KYB_CHANGED = "brand.kyb_changed", _("Legal identity changed")
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
    # accounts (platform admins)
    USER_DEACTIVATED = "user.deactivated", _("Account deactivated")
    USER_REACTIVATED = "user.reactivated", _("Account reactivated")
    # matching
    RECOMMENDATION_DISMISSED = "recommendation.dismissed", _("Dismissed a recommended partner")
    RECOMMENDATION_UNDISMISSED = "recommendation.undismissed", _("Undid the dismissal of a partner")
    MATCHER_TRAINING_STARTED = "matcher.training_started", _("Matcher training started")
    MATCHER_MODEL_ACTIVATED = "matcher.model_activated", _("Matcher model activated")
    MATCHER_MODEL_RETIRED = "matcher.model_retired", _("Matcher model retired (below the heuristic)")
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
    COUPONS_GENERATED = "coupons.generated", _("Generated a coupon batch")
    DELIVERY_REPORTED = "delivery.reported", _("Reported a delivery")
    DELIVERY_CONFIRMED = "delivery.confirmed", _("Confirmed a delivery")
    DELIVERY_DISPUTED = "delivery.disputed", _("Disputed a delivery")
    EVENT_REVERSED = "reported_event.reversed", _("Reversed a reported order or new member")
    WEBHOOK_CREATED = "webhook.created", _("Webhook endpoint added")
    WEBHOOK_UPDATED = "webhook.updated", _("Webhook endpoint changed")
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", _("Webhook signing secret rotated")
    WEBHOOK_DELETED = "webhook.deleted", _("Webhook endpoint removed")
    WEBHOOK_DISABLED = "webhook.disabled", _("Webhook endpoint disabled after failing")
    WEBHOOK_REPLAYED = "webhook.replayed", _("Webhook deliveries replayed")
    LEDGER_POSTED = "ledger.posted", _("Posted to the reciprocity ledger")
    SETTLEMENT_OPENED = "settlement.opened", _("Settlement opened")
    SETTLEMENT_CHOSEN = "settlement.chosen", _("Chose how to settle")
    SETTLEMENT_PAID = "settlement.paid", _("Settlement paid")
    SETTLEMENT_PAYMENT_FAILED = "settlement.payment_failed", _("Settlement payment failed")
    SETTLEMENT_CREDITED = "settlement.credited", _("Settlement carried as traffic credit")
    SETTLEMENT_REFUNDED = "settlement.refunded", _("Settlement refunded")
    SETTLEMENT_VOIDED = "settlement.voided", _("Settlement void after a dispute decision")
    SETTLEMENT_POLICY_SET = "settlement.policy_set", _("Settlement policy changed")
    BILLING_CARD_SAVED = "billing.card_saved", _("Saved a payment card")
    DISPUTE_OPENED = "dispute.opened", _("Opened a dispute")
    DISPUTE_ANSWERED = "dispute.answered", _("Answered a dispute")
    DISPUTE_EVIDENCE_ADDED = "dispute.evidence_added", _("Added evidence to a dispute")
    DISPUTE_RESOLVED = "dispute.resolved", _("Resolved a dispute")
    DISPUTE_WITHDRAWN = "dispute.withdrawn", _("Withdrew a dispute")


class AuditEvent(models.Model):
    """Who did what to which object, when and why. Append-only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("person"),
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("API key")
    )
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices, db_index=True)
    brand = models.ForeignKey(
        Brand,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
        verbose_name=_("brand"),
    )
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.CharField(_("object id"), max_length=40)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # Set when the brand's members were e-mailed about this event; claimed before sending so
    # a retried task never mails twice.
    notified_at = models.DateTimeField(_("members notified"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return str(self.get_action_display())
