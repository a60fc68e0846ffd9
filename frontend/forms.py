"""Web forms: they turn posted strings into the payload the shared validators and services
expect, and place the services' field errors back next to the inputs.

Validation rules live in partners.validation (shared with the API and bulk import); the
forms only coerce types (text → number, percent → share) and say so when that fails.

One idea at ~490 lines: the brand forms (profile, audience, channels, wizard steps) share the
coercion helpers at the top; splitting per form would scatter them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from exchange.models import EventType
from frontend.labels import page_error_items
from huiliu import formatting
from partners import validation
from partners.errors import PartnersError
from partners.models import ApiKeyScope, BrandStatus, ChannelType
from partners.reference import AUDIENCE_DIMENSIONS, CN_REGIONS, tone_label

# Labels of the audience buckets (the keys are the validators' canonical keys).
AUDIENCE_LABELS: dict[str, dict[str, Any]] = {
    "gender": {"female": gettext_lazy("Female"), "male": gettext_lazy("Male")},
    "age": {
        "<18": gettext_lazy("Under 18"),
        "18-24": "18–24",
        "25-34": "25–34",
        "35-44": "35–44",
        "45+": gettext_lazy("45 and over"),
    },
    "city_tier": {
        "tier1": gettext_lazy("Tier-1 cities"),
        "new_tier1": gettext_lazy("New tier-1 cities"),
        "tier2": gettext_lazy("Tier-2 cities"),
        "tier3_plus": gettext_lazy("Tier-3 and below"),
    },
}
DIMENSION_LABELS = {
    "gender": gettext_lazy("Gender"),
    "age": gettext_lazy("Age"),
    "city_tier": gettext_lazy("City tier"),
    "regions": gettext_lazy("Regions"),
}
PERCENT_TOLERANCE = 1.0  # the validators allow ±0.01 of a share, i.e. ±1 percentage point


def apply_errors(form: forms.Form, exc: ValidationError, *, prefix_map: dict[str, str] | None = None) -> None:
    """Attach a service's ValidationError to the form: known fields next to their input,
    anything else at the top of the form."""
    prefix_map = prefix_map or {}
    labels = {name: f.label for name, f in form.fields.items() if f.label}
    for field, _code, message in page_error_items(exc, labels):
        name = prefix_map.get(field, field)
        if name in form.fields:
            form.add_error(name, message)
        else:
            form.add_error(None, message)


# --- Accounts -----------------------------------------------------------------------------------
class SignupForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Work e-mail"), max_length=150)
    display_name = forms.CharField(label=gettext_lazy("Your name"), max_length=80, required=False)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        help_text=gettext_lazy("At least 8 characters; not only digits, not a common password."),
    )


class SigninForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput, strip=False)


# --- Brand profile ------------------------------------------------------------------------------
def category_choices(categories) -> list:
    """Leaf categories grouped under their parent, in the active language."""
    lang = get_language() or "zh-hans"
    by_code = {c.code: c for c in categories}
    groups: dict[str, list] = {}
    singles: list = []
    for c in categories:
        if not c.is_leaf:
            continue
        parent = by_code.get(c.code.rsplit(".", 1)[0]) if "." in c.code else None
        if parent is None:
            singles.append((c.code, c.name(lang)))
        else:
            groups.setdefault(parent.name(lang), []).append((c.code, c.name(lang)))
    choices: list = [("", _("Choose a category"))]
    choices += [(group, items) for group, items in groups.items()]
    if singles:
        choices.append((_("Other"), singles))
    return choices


PRICE_TIERS = [
    ("1", gettext_lazy("1 · Mass market")),
    ("2", gettext_lazy("2 · Value")),
    ("3", gettext_lazy("3 · Mid-range")),
    ("4", gettext_lazy("4 · Premium")),
    ("5", gettext_lazy("5 · Luxury")),
]


class BrandProfileForm(forms.Form):
    slug = forms.CharField(
        label=gettext_lazy("Brand ID (slug)"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Lowercase letters, digits and hyphens, e.g. luckin-coffee. Cannot be changed later."),
    )
    name = forms.CharField(label=gettext_lazy("Brand name (Chinese)"), max_length=120, required=False)
    name_en = forms.CharField(label=gettext_lazy("Brand name (English)"), max_length=120, required=False)
    legal_name = forms.CharField(label=gettext_lazy("Legal entity"), max_length=200, required=False)
    credit_code = forms.CharField(
        label=gettext_lazy("Unified social credit code"),
        max_length=18,
        required=False,
        help_text=gettext_lazy("18 characters, as printed on the business licence."),
    )
    # Not a ChoiceField: the shared validator says why a code is refused (unknown, not a leaf).
    category = forms.CharField(label=gettext_lazy("Category"), required=False, widget=forms.Select)
    price_tier = forms.ChoiceField(label=gettext_lazy("Price tier"), choices=PRICE_TIERS, initial="3", required=False)
    tone = forms.CharField(
        label=gettext_lazy("Tone tags"),
        required=False,
        help_text=gettext_lazy("Separate with commas, e.g. young, urban, guochao."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    stores = forms.IntegerField(label=gettext_lazy("Stores"), min_value=0, required=False)
    website = forms.CharField(label=gettext_lazy("Website"), max_length=200, required=False)

    def __init__(self, *args, categories=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.choices = category_choices(list(categories))
        if editing:
            # The slug is the brand's permanent identifier; brand_update refuses a change.
            del self.fields["slug"]
            self.fields["credit_code"].help_text = ""

    def payload(self) -> dict[str, Any]:
        """The validators' field names and types; call after is_valid(). Fields that failed
        the form's own checks are left at their defaults (their error is already shown)."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for key in (
            "slug",
            "name",
            "name_en",
            "legal_name",
            "credit_code",
            "category",
            "tone",
            "description",
            "website",
        ):
            if key in self.fields:
                out[key] = data.get(key) or ""
        out["price_tier"] = data.get("price_tier") or "3"
        out["stores"] = data.get("stores") or 0
        return out

    @staticmethod
    def initial_from(payload_or_brand) -> dict[str, Any]:
        if isinstance(payload_or_brand, dict):
            return dict(payload_or_brand)
        b = payload_or_brand
        return {
            "slug": b.slug,
            "name": b.name,
            "name_en": b.name_en,
            "legal_name": b.legal_name,
            "credit_code": b.credit_code,
            "category": b.category.code,
            "price_tier": str(b.price_tier),
            "tone": ", ".join(tone_label(t, get_language() or "zh-hans") for t in b.tone_tags),
            "description": b.description,
            "stores": b.store_count,
            "website": b.website,
        }


# --- Audience -----------------------------------------------------------------------------------
def _share_field_name(dimension: str, index: int) -> str:
    return f"{dimension}_{index}"


class AudienceForm(forms.Form):
    """Gender, age and city-tier shares as percentages (each dimension sums to 100, or is left
    empty), plus the regions the audience lives in."""

    regions = forms.MultipleChoiceField(
        label=gettext_lazy("Regions"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lang = get_language() or "zh-hans"
        for dim, keys in AUDIENCE_DIMENSIONS.items():
            for i, key in enumerate(keys):
                self.fields[_share_field_name(dim, i)] = forms.DecimalField(
                    label=AUDIENCE_LABELS[dim][key],
                    required=False,
                    min_value=0,
                    max_value=100,
                    decimal_places=1,
                    widget=forms.NumberInput(attrs={"step": "0.1", "min": 0, "max": 100}),
                )
        self.fields["regions"].choices = sorted(
            ((code, en if lang.startswith("en") else zh) for code, (zh, en) in CN_REGIONS.items()),
            key=lambda c: c[0],
        )
        self.group_errors: dict[str, list[str]] = {}

    def dimensions(self) -> list[dict[str, Any]]:
        """For the template: each dimension's label, bound fields and errors."""
        return [
            {
                "key": dim,
                "label": DIMENSION_LABELS[dim],
                "fields": [self[_share_field_name(dim, i)] for i in range(len(keys))],
                "errors": self.group_errors.get(dim, []),
            }
            for dim, keys in AUDIENCE_DIMENSIONS.items()
        ]

    def add_group_error(self, dimension: str, message: str) -> None:
        self.group_errors.setdefault(dimension, []).append(str(message))

    def has_errors(self) -> bool:
        return bool(self.errors) or bool(self.group_errors)

    def clean(self):
        data = super().clean()
        for dim, keys in AUDIENCE_DIMENSIONS.items():
            values = [data.get(_share_field_name(dim, i)) for i in range(len(keys))]
            if all(v is None for v in values):
                continue
            total = sum(float(v or 0) for v in values)
            if abs(total - 100) > PERCENT_TOLERANCE:
                self.add_group_error(
                    dim,
                    _("%(dimension)s percentages must add up to 100 (they add up to %(total)s).")
                    % {"dimension": DIMENSION_LABELS[dim], "total": f"{total:g}"},
                )
        return data

    def is_valid(self) -> bool:
        return super().is_valid() and not self.group_errors

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for dim, keys in AUDIENCE_DIMENSIONS.items():
            values = {key: data.get(_share_field_name(dim, i)) for i, key in enumerate(keys)}
            if all(v is None for v in values.values()):
                continue
            out[dim] = {k: round(float(v) / 100, 4) for k, v in values.items() if v}
        if data.get("regions"):
            out["regions"] = list(data["regions"])
        return out

    def apply_service_errors(self, exc: ValidationError) -> None:
        for field, _code, message in page_error_items(exc):
            dim = field.split(".", 1)[1] if field.startswith("audience.") else field
            if dim == "regions":
                self.add_error("regions", message)
            elif dim in AUDIENCE_DIMENSIONS:
                self.add_group_error(dim, message)
            else:
                self.add_error(None, message)

    @staticmethod
    def initial_from(audience: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {"regions": list(audience.get("regions") or [])}
        for dim, keys in AUDIENCE_DIMENSIONS.items():
            shares = audience.get(dim) or {}
            if not shares:
                continue
            for i, key in enumerate(keys):
                initial[_share_field_name(dim, i)] = f"{float(shares.get(key, 0)) * 100:g}"
        return initial


def apply_profile_errors(form: BrandProfileForm, audience_form: AudienceForm, exc: ValidationError) -> None:
    """Route brand_update's errors: ``audience.*`` to the audience fields, the rest to the profile."""
    for field, _code, message in page_error_items(exc):
        if field.startswith("audience"):
            audience_form.apply_service_errors(ValidationError({field: ValidationError(message)}))
        elif field in form.fields:
            if field not in form.errors:  # the form's own error on it says it better
                form.add_error(field, message)
        else:
            form.add_error(None, message)


# --- Channels -----------------------------------------------------------------------------------
BLANK_CHANNEL_ROWS = 2


class ChannelRows:
    """The channel table: rows of type, label, size and active rate (percent).

    Not a Django formset: rows are added in the browser, blank rows are ignored, and the
    errors come back keyed ``channels[i].field`` from the shared validator.
    """

    FIELDS = ("type", "label", "size", "active_rate")

    def __init__(self, rows: list[dict[str, Any]] | None = None):
        self.rows: list[dict[str, Any]] = [dict(r, errors={}) for r in (rows or [])]
        self.non_field_errors: list[str] = []

    @classmethod
    def from_post(cls, post) -> ChannelRows:
        columns = {f: post.getlist(f"channel_{f}") for f in cls.FIELDS}
        length = max((len(v) for v in columns.values()), default=0)
        rows = []
        for i in range(length):
            row = {f: (columns[f][i].strip() if i < len(columns[f]) else "") for f in cls.FIELDS}
            if any(row.values()):  # rows left blank are ignored
                rows.append(row)
        return cls(rows)

    @classmethod
    def from_payload(cls, channels: list[dict[str, Any]]) -> ChannelRows:
        return cls(
            [
                {
                    "type": c["type"],
                    "label": c.get("label", ""),
                    # "20,000,000", not "20000000": payload() reads the separators back.
                    "size": formatting.number(c.get("size", "")),
                    "active_rate": f"{float(c.get('active_rate', 0)) * 100:g}",
                }
                for c in channels
            ]
        )

    def payload(self) -> list[dict[str, Any]] | None:
        """The validator's format, or None if a number could not be read (errors are set)."""
        out: list[dict[str, Any]] = []
        ok = True
        for row in self.rows:
            item: dict[str, Any] = {"type": row["type"], "label": row["label"]}
            raw_size = row["size"].replace(",", "").replace("，", "")
            try:
                item["size"] = int(raw_size or 0)
            except ValueError:
                row["errors"]["size"] = _("Enter a whole number of people, e.g. 120000.")
                item["size"] = 0  # stands in so the shared checks still see the rest of the row
                ok = False
            try:
                rate = float(row["active_rate"] or 0)
            except ValueError:
                row["errors"]["active_rate"] = _("Enter a percentage, e.g. 35.")
                item["active_rate"] = 0.0
                ok = False
            else:
                if not 0 <= rate <= 100:
                    row["errors"]["active_rate"] = _("The active rate is a percentage between 0 and 100.")
                    ok = False
                item["active_rate"] = round(rate / 100, 4) if 0 <= rate <= 100 else 0.0
            out.append(item)
        self._best_effort = out
        if not ok:
            # Every error in one round: the shared validator's findings on what could be read
            # join the number errors (a field that already has one keeps it).
            try:
                validation.clean_channels(out)
            except ValidationError as exc:
                self.apply_service_errors(exc, keep_existing=True)
        return out if ok else None

    def apply_service_errors(self, exc: ValidationError, *, keep_existing: bool = False) -> None:
        for field, code, message in page_error_items(exc):
            if field.startswith("channels[") and "]" in field:
                index = int(field[len("channels[") : field.index("]")])
                name = field.split(".", 1)[1] if "." in field else "type"
                if 0 <= index < len(self.rows):
                    if code == PartnersError.UNKNOWN_CHANNEL_TYPE and not self.rows[index]["type"]:
                        message = _("Choose a channel type.")  # a row with numbers but no type
                    if keep_existing and name in self.rows[index]["errors"]:
                        continue
                    self.rows[index]["errors"][name] = message
                    continue
            self.non_field_errors.append(message)

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(r["errors"] for r in self.rows)

    def display_rows(self) -> list[dict[str, Any]]:
        blanks = [{"type": "", "label": "", "size": "", "active_rate": "", "errors": {}}] * BLANK_CHANNEL_ROWS
        return self.rows + (blanks if not self.has_errors else blanks[:1])

    @staticmethod
    def type_choices():
        return ChannelType.choices


# --- Logo ----------------------------------------------------------------------------------------
class LogoForm(forms.Form):
    """Upload or remove a brand's logo; what an image is (type by content, size) is decided by
    ``partners.services.brand_logo_set``."""

    logo = forms.FileField(
        label=gettext_lazy("Logo"),
        required=False,
        help_text=gettext_lazy("PNG, JPEG or WebP, at most 512 KB; square images look best."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("remove") and not data.get("logo"):
            self.add_error("logo", _("Choose an image to upload."))
        return data


# --- Review and keys ------------------------------------------------------------------------------
class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("All statuses")), *BrandStatus.choices]
    )
    q = forms.CharField(label=gettext_lazy("Search"), required=False)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Key name"), max_length=80, required=False)
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=ApiKeyScope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKeyScope.READ],
    )


class RecommendationFilterForm(forms.Form):
    """GET filters of the recommended-partners page, cleaned into the arguments of
    ``matching.selectors.recommendation_list``."""

    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    scale_min = forms.IntegerField(label=gettext_lazy("Active audience from"), min_value=0, required=False)
    scale_max = forms.IntegerField(label=gettext_lazy("Active audience up to"), min_value=0, required=False)
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        lang = get_language() or "zh-hans"
        self.fields["category"].choices = [("", _("All categories"))] + [
            (c.code, ("　" if c.parent_id else "") + c.name(lang)) for c in categories
        ]
        pick = 1 if lang.startswith("en") else 0
        regions = sorted(CN_REGIONS.items(), key=lambda item: item[1][1])
        self.fields["region"].choices = [("", _("All regions"))] + [(code, names[pick]) for code, names in regions]

    def clean(self):
        data = super().clean()
        low, high = data.get("scale_min"), data.get("scale_max")
        if low is not None and high is not None and low > high:
            self.add_error("scale_max", _("The upper bound must not be below the lower bound."))
        return data

    def filters(self) -> dict:
        """Selector arguments; empty when the form is invalid (the page then shows the errors)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {k: data[k] for k in ("category", "scale_min", "scale_max", "region") if data.get(k) not in (None, "")}


# --- Webhooks -----------------------------------------------------------------------------------
class WebhookEndpointForm(forms.Form):
    """A webhook endpoint's settings; the service checks the address (https, public) and types."""

    url = forms.CharField(label=gettext_lazy("Endpoint URL"), max_length=500, required=False)
    description = forms.CharField(label=gettext_lazy("What this endpoint is for"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events to send"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = EventType.choices


class WebhookReplayForm(forms.Form):
    """The range of a mass replay, in the viewer's time zone (Asia/Shanghai)."""

    since = forms.DateTimeField(
        label=gettext_lazy("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(label=gettext_lazy("To"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
