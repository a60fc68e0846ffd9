"""Plausible generated brands as bulk-import payloads, for the demo market and the import
benchmark: Chinese names built from common brand syllables, a profile per taxonomy leaf
(typical audience, price tiers, tones, channels), deterministic for a seed. All fictitious.

Its length is data (syllables and a profile per taxonomy leaf), not logic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from partners.demo_data.seed_brands import fictitious_credit_code
from partners.reference import CN_REGIONS, tone_label
from partners.taxonomy import TAXONOMY, leaf_codes

_FIRST = [
    ("山", "shan"),
    ("木", "mu"),
    ("云", "yun"),
    ("鹿", "lu"),
    ("星", "xing"),
    ("野", "ye"),
    ("小", "xiao"),
    ("初", "chu"),
    ("拾", "shi"),
    ("半", "ban"),
    ("南", "nan"),
    ("北", "bei"),
    ("青", "qing"),
    ("白", "bai"),
    ("森", "sen"),
    ("麦", "mai"),
    ("桃", "tao"),
    ("栗", "li"),
    ("糖", "tang"),
    ("橙", "cheng"),
    ("朵", "duo"),
    ("禾", "he"),
    ("暖", "nuan"),
    ("悦", "yue"),
    ("乐", "le"),
    ("优", "you"),
    ("安", "an"),
    ("喜", "xi"),
    ("元", "yuan"),
    ("知", "zhi"),
]
_SECOND = [
    ("见", "jian"),
    ("屿", "yu"),
    ("间", "jian"),
    ("光", "guang"),
    ("岛", "dao"),
    ("里", "li"),
    ("舍", "she"),
    ("味", "wei"),
    ("语", "yu"),
    ("集", "ji"),
    ("匠", "jiang"),
    ("物", "wu"),
    ("坊", "fang"),
    ("记", "ji"),
    ("家", "jia"),
    ("品", "pin"),
    ("本", "ben"),
    ("然", "ran"),
    ("作", "zuo"),
    ("溪", "xi"),
]


@dataclass(frozen=True)
class _Profile:
    suffixes: tuple[str, ...]  # Chinese name endings
    en: str  # slug word
    female: float  # typical female share
    age_peak: int  # index into (<18, 18-24, 25-34, 35-44, 45+) the audience centres on
    tiers: tuple[int, int]  # price tier range
    tones: tuple[str, ...]
    channels: tuple[str, ...]


_P = _Profile
PROFILES: dict[str, _Profile] = {
    "beverage.coffee": _P(
        ("咖啡", "咖啡馆"),
        "coffee",
        0.58,
        2,
        (2, 4),
        ("young", "urban", "minimal", "quality"),
        ("miniprogram", "wecom", "wechat_group", "xiaohongshu"),
    ),
    "beverage.tea_drinks": _P(
        ("茶", "奶茶", "茶饮"),
        "tea",
        0.68,
        1,
        (1, 3),
        ("young", "trendy", "cute", "national"),
        ("miniprogram", "wechat_group", "douyin", "wecom"),
    ),
    "beverage.tea_leaf": _P(
        ("茶庄", "茶器", "茶业"),
        "teaware",
        0.35,
        4,
        (3, 5),
        ("artisan", "classic", "natural"),
        ("wechat_group", "official_account", "wecom"),
    ),
    "beverage.alcohol": _P(
        ("酒业", "精酿", "酒庄"),
        "wine",
        0.30,
        3,
        (2, 5),
        ("classic", "social", "premium"),
        ("wecom", "official_account", "douyin"),
    ),
    "food.bakery": _P(
        ("烘焙", "面包", "蛋糕"),
        "bakery",
        0.66,
        2,
        (2, 4),
        ("warm", "family", "playful"),
        ("wecom", "wechat_group", "miniprogram"),
    ),
    "food.snacks": _P(
        ("零食", "坚果", "食品"),
        "snacks",
        0.60,
        1,
        (1, 3),
        ("playful", "value", "cute"),
        ("douyin", "package_insert", "wechat_group", "miniprogram"),
    ),
    "food.dairy": _P(
        ("乳业", "牧场", "酸奶"),
        "dairy",
        0.62,
        2,
        (2, 4),
        ("healthy", "natural", "family"),
        ("miniprogram", "official_account", "wecom"),
    ),
    "food.frozen": _P(
        ("冰品", "雪糕", "冰淇淋"),
        "icecream",
        0.60,
        1,
        (2, 5),
        ("trendy", "premium", "playful"),
        ("miniprogram", "xiaohongshu", "wecom"),
    ),
    "restaurant.fast_food": _P(
        ("快餐", "汉堡", "米粉"), "food", 0.50, 1, (1, 2), ("value", "young", "mass"), ("miniprogram", "wecom", "app")
    ),
    "restaurant.hotpot": _P(
        ("火锅", "串串"),
        "hotpot",
        0.52,
        2,
        (2, 4),
        ("social", "warm", "national"),
        ("wecom", "wechat_group", "miniprogram", "douyin"),
    ),
    "beauty.skincare": _P(
        ("护肤", "肌研", "美肌"),
        "skin",
        0.86,
        2,
        (2, 5),
        ("natural", "professional", "quality"),
        ("wecom", "xiaohongshu", "douyin", "package_insert"),
    ),
    "beauty.makeup": _P(
        ("彩妆", "美妆"), "makeup", 0.90, 1, (2, 4), ("trendy", "young", "national"), ("xiaohongshu", "douyin", "wecom")
    ),
    "beauty.fragrance": _P(
        ("香氛", "香水", "调香"),
        "scent",
        0.80,
        2,
        (3, 5),
        ("elegant", "premium", "minimal"),
        ("xiaohongshu", "wecom", "official_account"),
    ),
    "apparel.sportswear": _P(
        ("运动", "体育"), "sport", 0.45, 2, (2, 4), ("sporty", "young", "outdoor"), ("wecom", "miniprogram", "douyin")
    ),
    "apparel.womenswear": _P(
        ("女装", "衣橱", "服饰"),
        "wear",
        0.92,
        2,
        (2, 4),
        ("elegant", "urban", "minimal"),
        ("wecom", "xiaohongshu", "miniprogram"),
    ),
    "apparel.menswear": _P(
        ("男装", "衬衫"),
        "menswear",
        0.20,
        3,
        (2, 4),
        ("classic", "professional", "minimal"),
        ("wecom", "official_account"),
    ),
    "apparel.kids": _P(
        ("童装", "童衣"), "kids", 0.88, 2, (2, 4), ("cute", "family", "warm"), ("wechat_group", "miniprogram", "wecom")
    ),
    "accessories.eyewear": _P(
        ("眼镜", "视光"), "optical", 0.55, 2, (2, 4), ("professional", "urban"), ("wecom", "miniprogram")
    ),
    "accessories.jewelry": _P(
        ("珠宝", "金饰", "首饰"),
        "jewelry",
        0.82,
        2,
        (3, 5),
        ("elegant", "luxury", "classic"),
        ("wecom", "official_account", "xiaohongshu"),
    ),
    "toys.collectibles": _P(
        ("潮玩", "手办"),
        "toys",
        0.60,
        1,
        (2, 4),
        ("trendy", "cute", "social"),
        ("miniprogram", "wechat_group", "weibo"),
    ),
    "toys.kids": _P(
        ("玩具", "积木"),
        "playthings",
        0.75,
        2,
        (1, 3),
        ("playful", "family", "cute"),
        ("miniprogram", "wechat_group", "douyin"),
    ),
    "home.appliances": _P(
        ("电器", "家电"),
        "appliances",
        0.42,
        3,
        (2, 4),
        ("tech", "family", "quality"),
        ("app", "wecom", "official_account"),
    ),
    "home.furniture": _P(
        ("家居", "木作", "家具"),
        "home",
        0.55,
        2,
        (3, 5),
        ("minimal", "natural", "quality"),
        ("wecom", "xiaohongshu", "store"),
    ),
    "home.paint": _P(
        ("涂料", "漆"), "paint", 0.35, 3, (2, 4), ("professional", "natural"), ("wecom", "wechat_group", "store")
    ),
    "electronics.phones": _P(("手机", "科技"), "phone", 0.35, 2, (2, 5), ("tech", "young"), ("app", "wecom", "weibo")),
    "electronics.audio": _P(
        ("声学", "耳机", "音频"),
        "audio",
        0.38,
        1,
        (2, 5),
        ("tech", "trendy", "minimal"),
        ("app", "douyin", "xiaohongshu"),
    ),
    "retail.drugstore": _P(
        ("药房", "大药房", "健康"),
        "pharmacy",
        0.65,
        3,
        (1, 3),
        ("professional", "healthy", "value"),
        ("wecom", "miniprogram", "store"),
    ),
    "retail.supermarket": _P(
        ("超市", "生鲜", "便利"),
        "mart",
        0.62,
        3,
        (1, 2),
        ("value", "family", "mass"),
        ("wechat_group", "app", "miniprogram", "wecom"),
    ),
    "health.supplements": _P(
        ("营养", "健康", "本草"),
        "health",
        0.58,
        3,
        (2, 4),
        ("healthy", "natural", "professional"),
        ("wecom", "official_account", "douyin"),
    ),
    "mother_baby": _P(
        ("母婴", "宝贝", "亲子"),
        "baby",
        0.85,
        2,
        (2, 4),
        ("family", "warm", "professional"),
        ("wechat_group", "wecom", "miniprogram"),
    ),
    "pets": _P(
        ("宠物", "萌宠", "宠粮"),
        "pets",
        0.70,
        2,
        (2, 4),
        ("cute", "warm", "young"),
        ("wechat_group", "xiaohongshu", "miniprogram"),
    ),
    "fitness": _P(
        ("健身", "瑜伽", "运动馆"),
        "fit",
        0.62,
        2,
        (2, 4),
        ("sporty", "healthy", "young"),
        ("app", "wecom", "wechat_group"),
    ),
    "education.kids": _P(
        ("学堂", "书院", "少儿编程"),
        "learn",
        0.78,
        3,
        (2, 5),
        ("professional", "family"),
        ("wecom", "wechat_group", "official_account"),
    ),
    "travel.hotels": _P(
        ("酒店", "民宿", "旅居"),
        "stay",
        0.55,
        3,
        (2, 5),
        ("warm", "quality", "outdoor"),
        ("miniprogram", "wecom", "official_account"),
    ),
}
_AGE_KEYS = ("<18", "18-24", "25-34", "35-44", "45+")
_TIER_KEYS = ("tier1", "new_tier1", "tier2", "tier3_plus")
_REGIONS = [code for code in CN_REGIONS if code not in ("CN-HK", "CN-MO", "CN-TW")]
_BIG_REGIONS = ["CN-GD", "CN-SH", "CN-BJ", "CN-ZJ", "CN-JS", "CN-SC", "CN-SD", "CN-HB"]


def _shares(rng: random.Random, keys: tuple[str, ...], weights: list[float]) -> dict[str, float]:
    """Shares in hundredths summing to exactly 1 (the largest absorbs the rounding)."""
    total = sum(weights)
    cents = [round(100 * w / total) for w in weights]
    cents[cents.index(max(cents))] += 100 - sum(cents)
    return {k: c / 100 for k, c in zip(keys, cents, strict=True) if c > 0}


def _audience(rng: random.Random, profile: _Profile) -> dict[str, Any]:
    female = min(0.97, max(0.05, rng.gauss(profile.female, 0.06)))
    female_c = round(female * 100)
    ages = [
        rng.uniform(0.2, 1.0) * (3.0 if i == profile.age_peak else 1.6 if abs(i - profile.age_peak) == 1 else 0.6)
        for i in range(len(_AGE_KEYS))
    ]
    ages[0] *= 0.3  # few under-18s in any brand's owned audience
    tiers = [rng.uniform(0.5, 1.5) for _ in _TIER_KEYS]
    regions = rng.sample(_BIG_REGIONS, rng.randint(1, 3)) + rng.sample(_REGIONS, rng.randint(0, 2))
    return {
        "gender": {"female": female_c / 100, "male": (100 - female_c) / 100},
        "age": _shares(rng, _AGE_KEYS, ages),
        "city_tier": _shares(rng, _TIER_KEYS, tiers),
        "regions": list(dict.fromkeys(regions)),
    }


def _channels(rng: random.Random, profile: _Profile) -> list[dict[str, Any]]:
    types = list(profile.channels)
    chosen = rng.sample(types, rng.randint(1, min(3, len(types))))
    if rng.random() < 0.3:
        chosen.append(rng.choice(["sms", "email", "video_channel", "kuaishou", "weibo", "app"]))
    out = []
    for ctype in dict.fromkeys(chosen):
        size = int(10 ** rng.uniform(3.3, 6.6)) if ctype != "store" else rng.randint(5, 800)
        out.append({"type": ctype, "size": size, "active_rate": round(rng.uniform(0.03, 0.55), 3)})
    return out


# How a brand would name its channels in its own profile text.
_CHANNEL_WORDS = {
    "wecom": "企业微信",
    "wechat_group": "会员社群",
    "official_account": "公众号",
    "miniprogram": "小程序商城",
    "app": "App",
    "sms": "短信会员",
    "email": "邮件订阅",
    "douyin": "抖音",
    "kuaishou": "快手",
    "video_channel": "视频号",
    "xiaohongshu": "小红书",
    "weibo": "微博",
    "store": "线下门店",
    "package_insert": "包裹卡",
}
_CATEGORY_NAMES = {code: zh for code, zh, _en in TAXONOMY}
# Profile texts in a brand's own voice; the template is picked by the brand's number (not the
# random generator, so adding one never changes the rest of the generated market).
_PITCHES = (
    "{name}是一个{tones}风格的{category}品牌。会员主要在{channels}，欢迎调性相近的品牌一起做会员互推。",
    "{category}品牌{name}，主打{tones}风格。我们在{channels}经营自己的用户，上新和福利第一时间发给会员。",
    "来自{region}的{category}品牌，风格{tones}。{channels}是我们和老顾客保持联系的地方。",
    "{name}专注{category}，主打{tones}。通过{channels}服务会员，期待和不冲突的品牌联名合作。",
)


def _pitch(n: int, name: str, code: str, tones: list[str], channels: list[dict], regions: list[str]) -> str:
    region = CN_REGIONS.get(regions[0], ("", ""))[0] if regions else ""
    return _PITCHES[n % len(_PITCHES)].format(
        name=name,
        category=_CATEGORY_NAMES.get(code, ""),
        tones="、".join(tone_label(t) for t in tones[:2]),
        channels="和".join(_CHANNEL_WORDS.get(c["type"], c["type"]) for c in channels[:2]),
        region=region or "全国",
    )


def generated_brands(
    count: int, *, seed: int = 2026, start: int = 1, block_rate: float = 0.0
) -> Iterator[dict[str, Any]]:
    """``count`` plausible brands as import payloads, round-robin over every taxonomy leaf.

    Deterministic for a seed. Slugs are ``<pinyin>-<word>-<n>`` so any count is unique.
    With ``block_rate`` that share of brands blocks one or two brands generated before it.
    """
    rng = random.Random(seed)
    leaves = [code for code in leaf_codes() if code in PROFILES]
    slugs: list[str] = []
    for n in range(start, start + count):
        code = leaves[n % len(leaves)]
        profile = PROFILES[code]
        (c1, p1), (c2, p2) = rng.choice(_FIRST), rng.choice(_SECOND)
        suffix = rng.choice(profile.suffixes)
        slug = f"{p1}{p2}-{profile.en}-{n}"
        tones = rng.sample(profile.tones, rng.randint(1, len(profile.tones)))
        if rng.random() < 0.25:
            tones.append(rng.choice(["value", "quality", "national", "young", "family"]))
        brand: dict[str, Any] = {
            "slug": slug,
            "name": f"{c1}{c2}{suffix}",
            "name_en": f"{p1.title()}{p2} {profile.en.title()}",
            "category": code,
            "price_tier": rng.randint(*profile.tiers),
            "tone": list(dict.fromkeys(tones)),
            "description": "",  # written below, from the profile
            "credit_code": fictitious_credit_code(100_000 + n),
            "stores": rng.choice([0, 0, rng.randint(1, 50), rng.randint(50, 2000)]),
            "audience": _audience(rng, profile),
            "channels": _channels(rng, profile),
        }
        brand["description"] = _pitch(
            n, brand["name"], code, brand["tone"], brand["channels"], brand["audience"]["regions"]
        )
        if slugs and rng.random() < block_rate:
            brand["blocked"] = list(dict.fromkeys(rng.sample(slugs[-500:], min(len(slugs[-500:]), rng.randint(1, 2)))))
        slugs.append(slug)
        yield brand
