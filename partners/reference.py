"""Reference data of brand profiles: the audience dimensions, China's regions and the tone
vocabulary, with their zh/en labels.

Fixed lists, not rules: the validators (``partners.validation``) check input against them,
the matcher (``matching.features``, ``matching.explain``) turns them into feature columns and
reason sentences, and the web pages and API show their labels.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

# --- Audience profile ------------------------------------------------------------------------
# The share dimensions of an audience profile and their keys, in feature-column order.
AUDIENCE_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "gender": ("female", "male"),
    "age": ("<18", "18-24", "25-34", "35-44", "45+"),
    "city_tier": ("tier1", "new_tier1", "tier2", "tier3_plus"),
}

# What people read for each dimension and key (the web forms and the Django admin).
AUDIENCE_DIMENSION_LABELS = {
    "gender": _("Gender"),
    "age": _("Age"),
    "city_tier": _("City tier"),
    "regions": _("Regions"),
}
AUDIENCE_KEY_LABELS: dict[str, dict[str, object]] = {
    "gender": {"female": _("Female"), "male": _("Male")},
    "age": {"<18": _("Under 18"), "18-24": "18–24", "25-34": "25–34", "35-44": "35–44", "45+": _("45 and over")},
    "city_tier": {
        "tier1": _("Tier-1 cities"),
        "new_tier1": _("New tier-1 cities"),
        "tier2": _("Tier-2 cities"),
        "tier3_plus": _("Tier-3 and below"),
    },
}

# ISO 3166-2:CN province-level codes.
CN_REGIONS: dict[str, tuple[str, str]] = {
    "CN-AH": ("安徽", "Anhui"),
    "CN-BJ": ("北京", "Beijing"),
    "CN-CQ": ("重庆", "Chongqing"),
    "CN-FJ": ("福建", "Fujian"),
    "CN-GD": ("广东", "Guangdong"),
    "CN-GS": ("甘肃", "Gansu"),
    "CN-GX": ("广西", "Guangxi"),
    "CN-GZ": ("贵州", "Guizhou"),
    "CN-HA": ("河南", "Henan"),
    "CN-HB": ("湖北", "Hubei"),
    "CN-HE": ("河北", "Hebei"),
    "CN-HI": ("海南", "Hainan"),
    "CN-HK": ("香港", "Hong Kong"),
    "CN-HL": ("黑龙江", "Heilongjiang"),
    "CN-HN": ("湖南", "Hunan"),
    "CN-JL": ("吉林", "Jilin"),
    "CN-JS": ("江苏", "Jiangsu"),
    "CN-JX": ("江西", "Jiangxi"),
    "CN-LN": ("辽宁", "Liaoning"),
    "CN-MO": ("澳门", "Macao"),
    "CN-NM": ("内蒙古", "Inner Mongolia"),
    "CN-NX": ("宁夏", "Ningxia"),
    "CN-QH": ("青海", "Qinghai"),
    "CN-SC": ("四川", "Sichuan"),
    "CN-SD": ("山东", "Shandong"),
    "CN-SH": ("上海", "Shanghai"),
    "CN-SN": ("陕西", "Shaanxi"),
    "CN-SX": ("山西", "Shanxi"),
    "CN-TJ": ("天津", "Tianjin"),
    "CN-TW": ("台湾", "Taiwan"),
    "CN-XJ": ("新疆", "Xinjiang"),
    "CN-XZ": ("西藏", "Tibet"),
    "CN-YN": ("云南", "Yunnan"),
    "CN-ZJ": ("浙江", "Zhejiang"),
}


# --- Tone tags --------------------------------------------------------------------------------
# Known tags have a canonical English key and a Chinese label; common Chinese spellings map
# onto the key so "年轻" and "Young " are the same tag. Unknown tags are kept, normalised.
TONE_LABELS: dict[str, tuple[str, str]] = {
    "young": ("年轻", "young"),
    "urban": ("都市", "urban"),
    "value": ("性价比", "value"),
    "premium": ("高端", "premium"),
    "luxury": ("奢华", "luxury"),
    "trendy": ("潮流", "trendy"),
    "cute": ("可爱", "cute"),
    "family": ("家庭", "family"),
    "healthy": ("健康", "healthy"),
    "sporty": ("运动", "sporty"),
    "tech": ("科技", "tech"),
    "classic": ("经典", "classic"),
    "national": ("国潮", "guochao"),
    "natural": ("自然", "natural"),
    "professional": ("专业", "professional"),
    "artisan": ("匠心", "artisan"),
    "playful": ("有趣", "playful"),
    "elegant": ("优雅", "elegant"),
    "outdoor": ("户外", "outdoor"),
    "warm": ("温暖", "warm"),
    "minimal": ("简约", "minimal"),
    "social": ("社交", "social"),
    "mass": ("大众", "mass"),
    "quality": ("品质", "quality"),
}
_TONE_ALIASES = {zh: key for key, (zh, _en) in TONE_LABELS.items()}
_TONE_ALIASES.update({"guochao": "national", "国潮风": "national", "高端化": "premium", "平价": "value"})


def normalise_tone_tag(raw: str) -> str:
    tag = re.sub(r"[\s_]+", "-", str(raw).strip().lower()).strip("-")
    return _TONE_ALIASES.get(tag, tag)


def tone_label(tag: str, language: str = "zh-hans") -> str:
    zh, en = TONE_LABELS.get(tag, (tag, tag))
    return en if language.startswith("en") else zh
