"""Pure validators for brand data, shared by services, forms, the API and bulk import.

Each validator returns the normalised value or raises ``ValidationError`` with a code from
``partners.errors.PartnersError``. They never touch the database. A message that names a
field or a code (``name``, ``wecom``) passes it in ``params``, so the import and the API show
the code while the web pages put the label in its place (``frontend.labels``). The lists they check
against (audience keys, regions, tone vocabulary) are in ``partners.reference``.

One idea — what valid brand input is — over ~450 lines: a dozen fields, each with its own
rules and messages, then the two payloads (profile, channels) built from them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from huiliu.text import clean_free_text, clean_line, clean_name, excerpt
from partners.errors import PartnersError as E
from partners.models import Channel, ChannelType, Verification
from partners.reference import AUDIENCE_DIMENSIONS, CN_REGIONS, normalise_tone_tag

# --- Unified social credit code (统一社会信用代码), GB 32100-2015 ----------------------------
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a credit code."""
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(
            _("Unified social credit code must be 18 characters (got %(n)d).") % {"n": len(code)},
            code=E.INVALID_CREDIT_CODE,
        )
    bad = sorted({c for c in code if c not in CREDIT_CODE_CHARSET})
    if bad:
        raise ValidationError(
            _("Unified social credit code contains invalid characters: %(chars)s.") % {"chars": excerpt("".join(bad))},
            code=E.INVALID_CREDIT_CODE,
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("Unified social credit code check digit is wrong (expected %(c)s).") % {"c": expected},
            code=E.INVALID_CREDIT_CODE,
        )
    return code


# --- Audience profile ------------------------------------------------------------------------
DISTRIBUTION_TOLERANCE = 0.01


def validate_distribution(name: str, value: Any) -> dict[str, float]:
    """A share per known key, each in [0, 1], summing to 1 (±0.01)."""
    keys = AUDIENCE_DIMENSIONS[name]
    if not isinstance(value, dict) or not value:
        raise ValidationError(
            _("%(name)s must be an object of shares, e.g. {%(example)s}.")
            % {"name": name, "example": ", ".join(f'"{k}": …' for k in keys)},
            code=E.INVALID_DISTRIBUTION,
        )
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise ValidationError(
            _("%(name)s has unknown keys %(unknown)s; allowed: %(allowed)s.")
            % {"name": name, "unknown": _excerpts(unknown), "allowed": ", ".join(keys)},
            code=E.INVALID_DISTRIBUTION,
        )
    out: dict[str, float] = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValidationError(
                _("%(name)s.%(key)s must be a number between 0 and 1.") % {"name": name, "key": k},
                code=E.INVALID_DISTRIBUTION,
            )
        if not 0 <= v <= 1:
            raise ValidationError(
                _("%(name)s.%(key)s must be between 0 and 1 (got %(v)s).") % {"name": name, "key": k, "v": v},
                code=E.INVALID_DISTRIBUTION,
            )
        out[k] = float(v)
    total = sum(out.values())
    if abs(total - 1) > DISTRIBUTION_TOLERANCE:
        raise ValidationError(
            _("%(name)s shares must sum to 1 (±0.01); they sum to %(total).3f.") % {"name": name, "total": total},
            code=E.INVALID_DISTRIBUTION,
        )
    return out


def validate_regions(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise ValidationError(_("regions must be a list of ISO 3166-2:CN codes."), code=E.INVALID_REGION)
    out: list[str] = []
    for raw in value:
        code = str(raw).strip().upper()
        if code not in CN_REGIONS:
            raise ValidationError(
                _("%(code)s is not an ISO 3166-2:CN region code (e.g. CN-BJ, CN-SH, CN-GD).") % {"code": excerpt(raw)},
                code=E.INVALID_REGION,
            )
        if code not in out:
            out.append(code)
    return out


def validate_audience(value: Any) -> dict[str, Any]:
    """Normalised audience profile; every dimension is optional but must be valid if given.

    Raises a ValidationError keyed ``audience.<dimension>``.
    """
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"audience": ValidationError(_("audience must be an object."), code=E.INVALID)})
    errors: dict[str, ValidationError] = {}
    out: dict[str, Any] = {}
    for key, val in value.items():
        if val in (None, {}, []):
            continue
        try:
            if key in AUDIENCE_DIMENSIONS:
                out[key] = validate_distribution(key, val)
            elif key == "regions":
                out[key] = validate_regions(val)
            else:
                raise ValidationError(
                    _("unknown audience dimension %(key)s; allowed: gender, age, city_tier, regions.")
                    % {"key": excerpt(key)},
                    code=E.INVALID,
                )
        except ValidationError as exc:
            errors[f"audience.{excerpt(key, 40)}"] = exc
    if errors:
        raise ValidationError(errors)
    return out


# --- Tone tags --------------------------------------------------------------------------------
MAX_TONE_TAGS = 12
MAX_TONE_TAG_LENGTH = 24


def validate_tone(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = re.split(r"[,，、;；]", value)
    if not isinstance(value, (list, tuple)):
        raise ValidationError(_("tone must be a list of tags."), code=E.INVALID)
    out: list[str] = []
    for raw in value:
        # A tag is a name: NFKC, one line, nothing invisible (then folded onto the vocabulary).
        tag = normalise_tone_tag(clean_name(raw if isinstance(raw, str) else str(raw), "tone", compatibility=True))
        if not tag:
            continue
        if len(tag) > MAX_TONE_TAG_LENGTH:
            raise ValidationError(
                _("tone tag %(tag)s is longer than %(n)d characters.")
                % {"tag": excerpt(raw), "n": MAX_TONE_TAG_LENGTH},
                code=E.INVALID,
            )
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TONE_TAGS:
        raise ValidationError(_("at most %(n)d tone tags.") % {"n": MAX_TONE_TAGS}, code=E.INVALID)
    return out


# --- Numbers ----------------------------------------------------------------------------------
# Bounds keep every number inside its column (and exactly representable): a channel's size is
# a bigint but the JSON/GraphQL side may carry it as a float, so at most 2**53; a store count is
# a PostgreSQL integer; the sum of sizes × active rates is stored in a bigint.
MAX_CHANNEL_SIZE = 2**53
MAX_STORES = 2**31 - 1
MAX_ACTIVE_AUDIENCE = 2**63 - 1


def validate_price_tier(value: Any) -> int:
    # ``str.isdigit`` accepts "²" and other digits int() refuses; only ASCII 0-9 here.
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        and not (isinstance(value, str) and value.isascii() and value.isdecimal())
    ):
        raise ValidationError(_("price tier must be a whole number from 1 to 5."), code=E.OUT_OF_RANGE)
    tier = int(value)
    if not 1 <= tier <= 5:
        raise ValidationError(
            _("price tier must be from 1 (mass) to 5 (luxury), got %(v)s.") % {"v": excerpt(value)},
            code=E.OUT_OF_RANGE,
        )
    return tier


def validate_non_negative_int(value: Any, name: str, maximum: int | None = None) -> int:
    """A whole number in [0, maximum]; NaN, infinities and fractions are refused."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()))
    ):
        raise ValidationError(_("%(name)s must be a whole number."), code=E.INVALID, params={"name": name})
    if value < 0:
        raise ValidationError(
            _("%(name)s must be ≥ 0 (got %(v)s)."), code=E.OUT_OF_RANGE, params={"name": name, "v": value}
        )
    if maximum is not None and value > maximum:
        raise ValidationError(
            _("%(name)s must be at most %(max)s (got %(v)s)."),
            code=E.OUT_OF_RANGE,
            params={"name": name, "max": f"{maximum:,}", "v": value},
        )
    return int(value)


def validate_active_rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(_("active rate must be a number between 0 and 1."), code=E.INVALID)
    if not 0 <= value <= 1:
        raise ValidationError(_("active rate must be between 0 and 1 (got %(v)s).") % {"v": value}, code=E.OUT_OF_RANGE)
    return float(value)


# --- Website ----------------------------------------------------------------------------------
_WEBSITE_VALIDATOR = URLValidator(schemes=["http", "https"])


def validate_website(value: Any) -> str:
    """An http(s) URL, or "" for none. Other schemes (javascript:, data:, ftp: …) are refused:
    the public brand page renders the website as a link."""
    url = _text(value, "website", required=False)
    if not url:
        return ""
    try:
        _WEBSITE_VALIDATOR(url)
    except ValidationError:
        raise ValidationError(
            _("website must be a full http:// or https:// address, e.g. https://www.example.com."),
            code=E.INVALID,
        ) from None
    return url


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def validate_slug(value: Any) -> str:
    slug = str(value or "").strip()
    if not slug:
        raise ValidationError(_("slug is required."), code=E.REQUIRED)
    if len(slug) > 60 or not SLUG_RE.match(slug):
        raise ValidationError(
            _("slug must be lowercase letters, digits and single hyphens (max 60), e.g. luckin-coffee."),
            code=E.INVALID,
        )
    return slug


# --- Whole payloads ---------------------------------------------------------------------------
# The brand profile, by Brand attribute: what a brand (or staff) may edit, and the one list the
# import, the admin form and the GraphQL types read. Not in it: the slug (fixed once
# registered), the status (the review workflow moves it) and active_audience (follows the channels).
BRAND_PROFILE_FIELDS: tuple[str, ...] = (
    "name",
    "name_en",
    "legal_name",
    "credit_code",
    "category",
    "price_tier",
    "tone_tags",
    "description",
    "audience",
    "store_count",
    "website",
)
# The brand's legal identity: shown only to its members and the platform.
BRAND_LEGAL_FIELDS: tuple[str, ...] = ("legal_name", "credit_code")
BRAND_PUBLIC_PROFILE_FIELDS: tuple[str, ...] = tuple(f for f in BRAND_PROFILE_FIELDS if f not in BRAND_LEGAL_FIELDS)
# Where a payload (import line, API input, web form) names a field differently.
PAYLOAD_NAMES: dict[str, str] = {"tone_tags": "tone", "store_count": "stores"}
# Fields a brand payload may carry (the bulk-import format, the API and the web forms share it).
PROFILE_FIELDS: tuple[str, ...] = ("slug", *(PAYLOAD_NAMES.get(f, f) for f in BRAND_PROFILE_FIELDS))
TEXT_LIMITS = {"name": 120, "name_en": 120, "legal_name": 200, "description": 5000, "website": 200}
# Names are one line of visible text (NFKC for the English name; NFC for the Chinese ones, whose
# full-width punctuation is correct typography — see huiliu.text); the description is free text
# (line breaks allowed); the website one line as typed. None may hold control characters.
NAME_FIELDS = ("name", "name_en", "legal_name")
COMPATIBILITY_NAMES = ("name_en",)
CHANNEL_LABEL_LENGTH = Channel._meta.get_field("label").max_length


def _text(value: Any, name: str, *, required: bool) -> str:
    limit = TEXT_LIMITS.get(name)
    if name in NAME_FIELDS:
        return clean_name(value, name, required=required, max_length=limit, compatibility=name in COMPATIBILITY_NAMES)
    if name == "description":
        return clean_free_text(value, name, required=required, max_length=limit)
    return clean_line(value, name, required=required, max_length=limit)


def _excerpts(values: Any, shown: int = 5) -> str:
    """Some of ``values`` for a message, each shortened: "a, b, c, … (12)"."""
    values = list(values)
    text = ", ".join(excerpt(str(v), 40) for v in values[:shown])
    return text + (f", … ({len(values)})" if len(values) > shown else "")


def clean_brand_profile(
    data: dict[str, Any],
    *,
    categories: dict[str, Any],
    partial: bool = False,
    require_credit_code: bool = False,
) -> dict[str, Any]:
    """Validate and normalise a brand payload's profile fields.

    ``categories`` maps a category code to an object with ``is_leaf`` (a Category, or a
    stand-in); the caller loads it once, so a bulk import does not query per line.
    Returns model-ready values (``category`` is the mapped object, ``stores`` becomes
    ``store_count``, ``tone`` becomes ``tone_tags``). Raises one ValidationError holding every
    field's error, keyed by the payload's field names.
    """
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ValidationError(_("a brand must be a JSON object."), code=E.INVALID)})
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}

    def present(key: str) -> bool:
        return key in data or not partial

    def attempt(key: str, fn) -> None:
        try:
            fn()
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors.update(exc.error_dict)
            else:
                errors[key] = exc

    unknown = [k for k in data if k not in PROFILE_FIELDS and k not in ("channels", "blocked")]
    if unknown:
        errors["__all__"] = ValidationError(
            _("unknown fields: %(f)s.") % {"f": _excerpts(sorted(map(str, unknown)))}, code=E.INVALID
        )

    if present("slug"):
        attempt("slug", lambda: out.__setitem__("slug", validate_slug(data.get("slug"))))
    if present("name"):
        attempt("name", lambda: out.__setitem__("name", _text(data.get("name"), "name", required=True)))
    for key in ("name_en", "legal_name", "description"):
        if key in data:
            attempt(key, lambda key=key: out.__setitem__(key, _text(data.get(key), key, required=False)))
    if "website" in data:
        attempt("website", lambda: out.__setitem__("website", validate_website(data.get("website"))))

    def _credit() -> None:
        raw = data.get("credit_code") or ""
        if not str(raw).strip():
            if require_credit_code:
                raise ValidationError(_("unified social credit code is required to register a brand."), code=E.REQUIRED)
            out["credit_code"] = ""
            return
        out["credit_code"] = validate_credit_code(str(raw))

    if present("credit_code") or require_credit_code:
        attempt("credit_code", _credit)

    def _category() -> None:
        code = str(data.get("category") or "").strip()
        if not code:
            raise ValidationError(_("category is required."), code=E.REQUIRED)
        category = categories.get(code)
        if category is None:
            raise ValidationError(
                _("unknown category %(code)s (use a leaf code such as beverage.coffee).") % {"code": excerpt(code)},
                code=E.UNKNOWN_CATEGORY,
            )
        if not category.is_leaf:
            raise ValidationError(
                _("%(code)s is a category group; choose one of its leaves.") % {"code": code},
                code=E.NOT_A_LEAF,
            )
        out["category"] = category

    if present("category"):
        attempt("category", _category)
    if present("price_tier"):
        attempt("price_tier", lambda: out.__setitem__("price_tier", validate_price_tier(data.get("price_tier", 3))))
    if "tone" in data:
        attempt("tone", lambda: out.__setitem__("tone_tags", validate_tone(data.get("tone"))))
    if "audience" in data:
        attempt("audience", lambda: out.__setitem__("audience", validate_audience(data.get("audience"))))
    if "stores" in data:
        attempt(
            "stores",
            lambda: out.__setitem__(
                "store_count", validate_non_negative_int(data.get("stores") or 0, "stores", MAX_STORES)
            ),
        )

    if errors:
        raise ValidationError(errors)
    return out


def clean_channels(value: Any) -> list[dict[str, Any]]:
    """Validate a list of channels; errors are keyed ``channels[i].field`` (0-based)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError({"channels": ValidationError(_("channels must be a list."), code=E.INVALID)})
    errors: dict[str, ValidationError] = {}
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(value):
        prefix = f"channels[{i}]"
        if not isinstance(raw, dict):
            errors[prefix] = ValidationError(_("a channel must be an object."), code=E.INVALID)
            continue
        ctype = str(raw.get("type") or "").strip()
        if ctype not in ChannelType.values:
            errors[f"{prefix}.type"] = ValidationError(
                _("unknown channel type %(t)s; one of: %(all)s."),
                code=E.UNKNOWN_CHANNEL_TYPE,
                params={"t": excerpt(ctype) or "(empty)", "all": ", ".join(ChannelType.values)},
            )
            continue
        item: dict[str, Any] = {"type": ctype}
        try:
            # Refused over the column's length, never cut: two labels cut to the same 80
            # characters would also be one channel twice.
            item["label"] = clean_name(raw.get("label"), "label", max_length=CHANNEL_LABEL_LENGTH)
        except ValidationError as exc:
            errors[f"{prefix}.label"] = exc
            item["label"] = ""
        try:
            item["size"] = validate_non_negative_int(raw.get("size", 0), "size", MAX_CHANNEL_SIZE)
        except ValidationError as exc:
            errors[f"{prefix}.size"] = exc
        try:
            item["active_rate"] = validate_active_rate(raw.get("active_rate", 0))
        except ValidationError as exc:
            errors[f"{prefix}.active_rate"] = exc
        verification = raw.get("verification") or Verification.SELF_REPORTED
        if verification not in Verification.values:
            errors[f"{prefix}.verification"] = ValidationError(
                _("verification must be one of: %(all)s.") % {"all": ", ".join(Verification.values)}, code=E.INVALID
            )
        item["verification"] = verification
        key = (ctype, item["label"])
        if key in seen:
            errors[f"{prefix}.type"] = ValidationError(
                _("channel %(t)s is listed twice; give each a different label."), code=E.DUPLICATE, params={"t": ctype}
            )
        seen.add(key)
        out.append(item)
    if not errors and active_audience(out) > MAX_ACTIVE_AUDIENCE:
        errors["channels"] = ValidationError(
            _("the channels' total active audience is larger than %(max)s.") % {"max": f"{MAX_ACTIVE_AUDIENCE:,}"},
            code=E.OUT_OF_RANGE,
        )
    if errors:
        raise ValidationError(errors)
    return out


def active_audience(channels: list[dict[str, Any]]) -> int:
    """Scale: Σ size × active rate over a brand's channels."""
    return round(sum(c["size"] * c["active_rate"] for c in channels))
