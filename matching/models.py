"""Matching domain: trained models, stored recommendations, dismissals, swap outcomes.

The model artefact (fitted ranker, category-pair statistics, feature scaling) is pickled
with joblib into ``MatcherModel.artefact`` (a BinaryField, typically < 200 kB) so every
worker loads the active model from the database of record; there is no shared disk.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Brand


class MatcherModel(models.Model):
    """One trained ranker. Exactly one row is active (``is_active``) at a time."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    training_size = models.PositiveIntegerField(_("training outcomes"), default=0)
    features = models.JSONField(_("features"), default=list)
    metrics = models.JSONField(_("metrics"), default=dict)
    # share of the learned score in the final score
    blend_weight = models.FloatField(_("blend weight"), default=0.0)
    artefact = models.BinaryField(_("model file"))
    is_active = models.BooleanField(_("serving"), default=False)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("matcher model")
        verbose_name_plural = _("matcher models")
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="matcher_one_active"),
        ]

    def __str__(self) -> str:
        return (_("matcher v%(v)s (serving)") if self.is_active else _("matcher v%(v)s")) % {"v": self.version}


class TrainingState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class TrainingMessage(models.TextChoices):
    """What a training run is doing, or how it ended. The worker stores the code (and its
    params); pages and the API render the label in the reader's language."""

    STARTING = "starting", _("Starting")
    LOADING_MARKET = "loading_market", _("Loading the market")
    TRAINING = "training", _("Training on the training split")
    EVALUATING = "evaluating", _("Evaluating on the hold-out set")
    REFITTING = "refitting", _("Refitting on all outcomes")
    TRAINED = "trained", _("Trained")
    DONE = "done", _("Done")
    ACTIVATED = "activated", _("The new model was activated.")
    KEPT_ACTIVE = "kept_active", _("The active model was kept: the new one scored lower.")
    BELOW_HEURISTIC = (
        "below_heuristic",
        _("Not activated: the new model scored below the heuristic on its hold-out set."),
    )
    # The ranking gate (issue 12): params from ``services.gate_params``.
    NOT_BETTER_THAN_HEURISTIC = (
        "not_better_heuristic",
        _(
            "Not activated: on held-out brands its NDCG@10 was %(ndcg)s against the heuristic's %(baseline)s; "
            "the difference (95%% interval %(low)s to %(high)s) is not clearly above zero, so the heuristic keeps "
            "serving."
        ),
    )
    NOT_BETTER_THAN_ACTIVE = (
        "not_better_active",
        _(
            "Not activated: on held-out brands its NDCG@10 was %(ndcg)s against %(baseline)s for the serving "
            "model v%(v)s; the difference (95%% interval %(low)s to %(high)s) is not clearly above zero, so v%(v)s "
            "keeps serving."
        ),
    )
    GATE_BELOW_HEURISTIC = (
        "gate_below_heuristic",
        _(
            "Not activated: it beat the serving model v%(v)s, but on held-out brands it ranks below the heuristic "
            "beyond the noise (NDCG@10 %(ndcg)s against the heuristic's %(heuristic)s, difference 95%% interval "
            "%(h_low)s to %(h_high)s), so v%(v)s keeps serving."
        ),
    )
    ACTIVE_RETIRED = (
        "active_retired",
        _(
            "The heuristic serves now: the serving model v%(retired)s ranks below it beyond the noise on held-out "
            "brands (NDCG@10 %(active)s against the heuristic's %(heuristic)s, difference 95%% interval %(a_low)s "
            "to %(a_high)s), and the new model did not pass the gate either."
        ),
    )
    GATE_BELOW_EXPLORED = (
        "gate_below_explored",
        _(
            "Not activated: on the pairs tried from explore slots (%(e_n)d held-out brands, the sample no ranker "
            "chose) it ranks below the heuristic beyond the noise (NDCG@10 %(e_ndcg)s against %(e_heuristic)s)."
        ),
    )
    TOO_FEW_HELD_OUT = (
        "too_few_held_out",
        _(
            "Not activated: only %(n)d held-out brands have both a successful and an unsuccessful swap; at least "
            "%(min)d are needed to tell a better ranking from noise."
        ),
    )
    # Failures. A validation failure's code is the MatchingError code it was raised with.
    NOT_ENOUGH_OUTCOMES = (
        "not_enough_outcomes",
        _("Training needs at least %(min)d outcomes with both successes and failures (have %(n)d)."),
    )
    INTERNAL_ERROR = "internal_error", _("Internal error; see the worker log.")


class ServingReason(models.TextChoices):
    """Which ranker serves recommendations and why, for the matcher page. Labels take
    ``%(v)s`` (a model version) and ``%(auc)s`` / ``%(heuristic)s`` (hold-out AUCs)."""

    NO_MODEL = "no_model", _("The heuristic serves: no model has been trained yet.")
    BELOW_HEURISTIC = (
        "below_heuristic",
        _(
            "The heuristic serves: the latest model, v%(v)s, scored AUC %(auc)s on its hold-out set, below the "
            "heuristic's %(heuristic)s, so it was not activated."
        ),
    )
    NONE_ACTIVE = "none_active", _("The heuristic serves: no trained model is active.")
    NOT_BELOW_HEURISTIC = (
        "not_below_heuristic",
        _(
            "Model v%(v)s serves: on its hold-out set it scored AUC %(auc)s, no lower than the heuristic's %(heuristic)s."
        ),
    )
    FORCED = (
        "forced",
        _(
            "Model v%(v)s serves although it scored AUC %(auc)s on its hold-out set, below the heuristic's "
            "%(heuristic)s: it was activated by hand. Retrain without “Activate even if it scores lower” to "
            "replace it."
        ),
    )
    NO_COMPARISON = "no_comparison", _("Model v%(v)s serves (it was not compared with the heuristic).")
    # The ranking gate (issue 12). ``%(ndcg)s`` / ``%(baseline)s``: NDCG@10 on held-out brands
    # of the model and of the ranker it was compared with; ``%(low)s``/``%(high)s``: the 95 %
    # interval of the difference; ``%(against)s``: that ranker's name.
    GATE_PASSED = (
        "gate_passed",
        _(
            "Model v%(v)s serves: on held-out brands its NDCG@10 is %(ndcg)s against %(baseline)s for %(against)s "
            "(difference %(diff)s, 95%% interval %(low)s to %(high)s)."
        ),
    )
    GATE_REFUSED = (
        "gate_refused",
        _(
            "The heuristic serves: the latest model, v%(v)s, did not beat it beyond the noise on held-out brands "
            "(NDCG@10 %(ndcg)s against %(baseline)s, difference 95%% interval %(low)s to %(high)s)."
        ),
    )
    GATE_TOO_FEW = (
        "gate_too_few",
        _(
            "The heuristic serves: the latest model, v%(v)s, was not activated — only %(n)s held-out brands have "
            "both a successful and an unsuccessful swap, too few to tell a better ranking from noise."
        ),
    )
    GATE_REFUSED_ACTIVE = (
        "gate_refused_active",
        _(
            "The latest model, v%(v)s, was not activated: it did not beat the serving model beyond the noise on "
            "held-out brands (NDCG@10 %(ndcg)s against %(baseline)s, difference 95%% interval %(low)s to %(high)s)."
        ),
    )
    GATE_FORCED = (
        "gate_forced",
        _(
            "Model v%(v)s serves although it did not beat %(against)s beyond the noise on held-out brands "
            "(NDCG@10 %(ndcg)s against %(baseline)s, 95%% interval %(low)s to %(high)s): it was activated by hand."
        ),
    )


# An unfinished run older than this probably lost its worker: it no longer blocks a new one.
TRAINING_STALE_AFTER = timedelta(minutes=30)
TRAINING_FINISHED = (TrainingState.SUCCEEDED, TrainingState.FAILED)


class TrainingRunQuerySet(models.QuerySet):
    def in_progress(self) -> TrainingRunQuerySet:
        """Unfinished runs that are not stale: while one exists no new run starts."""
        since = timezone.now() - TRAINING_STALE_AFTER
        return self.exclude(state__in=TRAINING_FINISHED).filter(created_at__gte=since)


class TrainingRun(models.Model):
    """One request to train; the Celery task writes its progress here so pages can poll it.

    One at a time: ``training_run_start`` refuses a new run while one is in progress
    (``in_progress``: unfinished, and younger than ``TRAINING_STALE_AFTER``).
    """

    state = models.CharField(_("state"), max_length=12, choices=TrainingState.choices, default=TrainingState.QUEUED)
    progress = models.FloatField(_("progress"), default=0.0)  # 0..1
    message_code = models.CharField(_("message code"), max_length=32, choices=TrainingMessage.choices, blank=True)
    message_params = models.JSONField(_("message values"), default=dict, blank=True)  # the label's %(name)s values
    # Free text, shown only when there is no code: a failure without a TrainingMessage (its
    # messages as raised), or the exception class behind an internal error (for operators).
    message = models.CharField(_("message"), max_length=200, blank=True)
    force = models.BooleanField(_("activate even if it scores lower"), default=False)
    model = models.ForeignKey(
        MatcherModel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
        verbose_name=_("trained model"),
    )
    activated = models.BooleanField(_("activated"), default=False)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = TrainingRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("training run")
        verbose_name_plural = _("training runs")

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in TRAINING_FINISHED

    @property
    def is_stale(self) -> bool:
        """Unfinished after ``TRAINING_STALE_AFTER``: its worker is probably gone."""
        return not self.is_finished and self.created_at < timezone.now() - TRAINING_STALE_AFTER

    def message_text(self) -> str:
        """The run's message in the active language."""
        try:
            label = str(TrainingMessage(self.message_code).label)
        except ValueError:  # no code (or one this version does not know): the free text
            return self.message
        return label % self.message_params if self.message_params else label


class SlotType(models.TextChoices):
    """Which kind of slot a recommendation filled (and, on an outcome, the slot it came from)."""

    RANKED = "ranked", _("Ranked")
    # 1 in MATCHING_EXPLORE_EVERY slots: a plausible partner few brands have tried, so the
    # matcher can learn where it was wrong (no feedback trap); marked 新发现 / New.
    EXPLORE = "explore", _("New")


class Recommendation(models.Model):
    """``partner`` recommended to ``brand``; rows for a brand are replaced on each refresh."""

    # Derived data, rebuilt nightly by a COPY of a million rows, so the table carries only what
    # reads need: the unique (brand, partner) serves "a brand's list", partner_id serves "remove
    # a brand from every list". No database-level foreign keys (two RI-trigger look-ups per
    # copied row): Django's CASCADE still deletes a brand's rows in the ORM, and every read
    # joins the partner (an orphan could not show). See docs/PERFORMANCE.md.
    brand = models.ForeignKey(
        Brand,
        on_delete=models.CASCADE,
        related_name="recommendations",
        db_index=False,
        db_constraint=False,
        verbose_name=_("brand"),
    )
    partner = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="+", db_constraint=False, verbose_name=_("recommended partner")
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.FloatField(_("score"))
    # The interpretable components, each in [0, 1] (columns, not JSON: a full refresh COPYs
    # a million rows, and lists can sort or filter on them). ``learned_score`` is the trained
    # model's probability, null while the heuristic serves alone.
    scale_fit = models.FloatField(_("scale fit"), default=0.0)
    positioning_fit = models.FloatField(_("positioning fit"), default=0.0)
    audience_fit = models.FloatField(_("audience fit"), default=0.0)
    category_fit = models.FloatField(_("category fit"), default=0.0)
    learned_score = models.FloatField(_("learned score"), null=True, blank=True)
    reasons_zh = models.JSONField(_("reasons (Chinese)"), default=list)
    reasons_en = models.JSONField(_("reasons (English)"), default=list)
    model_version = models.PositiveIntegerField(_("model version"), default=0)  # 0 = heuristic (no trained model)
    # db_default too: writers that COPY rows without this column keep working
    slot = models.CharField(
        _("slot"), max_length=8, choices=SlotType.choices, default=SlotType.RANKED, db_default=SlotType.RANKED
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["brand_id", "rank"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [models.UniqueConstraint(fields=["brand", "partner"], name="recommendation_unique_pair")]

    def __str__(self) -> str:
        return f"{self.brand_id} → {self.partner_id} #{self.rank} ({self.score:.2f})"

    @property
    def components(self) -> dict[str, float | None]:
        """{"scale", "positioning", "audience", "category", "learned"} — for APIs and pages."""
        return {
            "scale": self.scale_fit,
            "positioning": self.positioning_fit,
            "audience": self.audience_fit,
            "category": self.category_fit,
            "learned": self.learned_score,
        }

    @components.setter
    def components(self, value: dict) -> None:
        # ``Recommendation(components={...})`` keeps working (Django passes property kwargs here)
        value = value or {}
        self.scale_fit = float(value.get("scale") or 0.0)
        self.positioning_fit = float(value.get("positioning") or 0.0)
        self.audience_fit = float(value.get("audience") or 0.0)
        self.category_fit = float(value.get("category") or 0.0)
        learned = value.get("learned")
        self.learned_score = None if learned is None else float(learned)

    def reasons(self, language: str = "zh-hans") -> list[str]:
        return self.reasons_en if language.startswith("en") else self.reasons_zh

    @property
    def is_explore(self) -> bool:
        return self.slot == SlotType.EXPLORE


class Dismissal(models.Model):
    """``brand`` does not want ``partner`` recommended again. Never expires."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="dismissals", verbose_name=_("brand"))
    partner = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", verbose_name=_("dismissed partner"))
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    created_at = models.DateTimeField(_("dismissed"), default=timezone.now)

    class Meta:
        verbose_name = _("dismissal")
        verbose_name_plural = _("dismissals")
        constraints = [models.UniqueConstraint(fields=["brand", "partner"], name="dismissal_unique_pair")]

    def __str__(self) -> str:
        return f"{self.brand_id} dismissed {self.partner_id}"


class OutcomeKind(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    COMPLETED = "completed", _("Completed")


# What each kind teaches the ranker: 1 a good pair, 0 a bad one; absent = not a label (a
# proposal only says the pair was tried — its answer comes as a later row).
OUTCOME_LABELS: dict[str, int] = {
    OutcomeKind.ACCEPTED: 1,
    OutcomeKind.COMPLETED: 1,
    OutcomeKind.DECLINED: 0,
    OutcomeKind.EXPIRED: 0,
}


class OutcomeSource(models.TextChoices):
    IMPORT = "import", _("Imported history")
    EXCHANGE = "exchange", _("The exchange")


class Outcome(models.Model):
    """A past swap between two brands: what happened, and the new members each side gained."""

    brand_a = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", verbose_name=_("brand A"))
    brand_b = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", verbose_name=_("brand B"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=OutcomeKind.choices)
    a_new_members = models.PositiveIntegerField(_("new members for A"), null=True, blank=True)
    b_new_members = models.PositiveIntegerField(_("new members for B"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=OutcomeSource.choices, default=OutcomeSource.IMPORT)
    # Why, for a declined proposal (the exchange's DeclineReason code).
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    # A stable id of the fact this row records: a retried writer never records it twice.
    key = models.CharField(_("key"), max_length=80, null=True, blank=True, unique=True)
    # The recommendation slot the pair was shown in when the exchange recorded it (blank: not
    # recommended, or imported history) — so evaluation can tell explored pairs from ranked ones.
    slot = models.CharField(_("slot"), max_length=8, choices=SlotType.choices, blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("swap outcome")
        verbose_name_plural = _("swap outcomes")
        constraints = [
            models.CheckConstraint(condition=~Q(brand_a=models.F("brand_b")), name="outcome_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_a_id} × {self.brand_b_id}: {self.outcome}"
