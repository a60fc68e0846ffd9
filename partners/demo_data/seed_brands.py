"""The brands the seed articles (/work/shared/seeds, "seed 000" … "seed 003") name, as
bulk-import payloads (docs/IMPORT.md).

Each description reads as the brand's own profile text: where an article gives a figure it is
used there, and where it comes from is recorded in ``SOURCES`` below (code, never the page).
Every other number (channel sizes without a source, audience shares, price tiers) is an
illustrative estimate, also noted in ``SOURCES``. Credit codes are FICTITIOUS but valid: the
first 17 characters are made up and the 18th is the GB 32100-2015 check character, so they
pass validation without naming any real company's registration.

Seed articles: 000 = 私域+ 生意增长 (Tencent smart retail, 屈臣氏 case); 001 = 有赞 private-domain
cases (泡泡玛特, 安踏, TCL, 良匠人, 小米, 乐纯, 飞鹤, 三只松鼠, Youzan chain clients);
002 = 私域直播+门店社群 (no brands); 003 = 电商品牌：私域不自私 (瑞幸, 熊猫不走, 泡泡玛特, 宝岛眼镜).
Some seed text is mis-encoded (traditional characters, 上海镓化 for 上海家化); names here are
the brands' usual simplified spellings.
"""

from __future__ import annotations

from partners.validation import credit_code_check_char


def fictitious_credit_code(n: int) -> str:
    """A valid-looking but invented unified social credit code (91 = enterprise, 3100 00 = Shanghai)."""
    body = f"9131000{n:010d}"[:17]
    return body + credit_code_check_char(body)


def _aud(female, ages, tiers, regions):
    """gender / age / city-tier shares (the last share absorbs rounding so each sums to 1)."""
    age_keys = ("18-24", "25-34", "35-44", "45+")
    tier_keys = ("tier1", "new_tier1", "tier2", "tier3_plus")
    return {
        "gender": {"female": female, "male": round(1 - female, 2)},
        "age": dict(zip(age_keys, ages, strict=True)),
        "city_tier": dict(zip(tier_keys, tiers, strict=True)),
        "regions": regions,
    }


def _ch(type_, size, rate, label="", verification="self_reported"):
    return {"type": type_, "size": size, "active_rate": rate, "label": label, "verification": verification}


# status: what the demo market shows (approved unless there is a reason to leave work in the queue)
SEED_BRANDS: list[dict] = [
    {
        "slug": "luckin-coffee",
        "name": "瑞幸咖啡",
        "name_en": "Luckin Coffee",
        "category": "beverage.coffee",
        "price_tier": 2,
        "tone": ["young", "urban", "value"],
        "stores": 10000,
        "description": "私域一天卖出 3.5 万杯，小程序是会员下单的主要渠道。万家门店连着企业微信和会员社群，"
        "新品、咖啡券和联名活动第一时间发到会员手里。",
        "audience": _aud(
            0.58, (0.32, 0.41, 0.18, 0.09), (0.35, 0.30, 0.20, 0.15), ["CN-SH", "CN-BJ", "CN-GD", "CN-ZJ"]
        ),
        "channels": [
            _ch("wecom", 1_200_000, 0.35),
            _ch("miniprogram", 20_000_000, 0.1),
            _ch("wechat_group", 600_000, 0.25),
        ],
    },
    {
        "slug": "panda-bubuzou",
        "name": "熊猫不走蛋糕",
        "name_en": "Panda Bubuzou Cake",
        "category": "food.bakery",
        "price_tier": 3,
        "tone": ["playful", "warm", "family"],
        "description": "3 年卖出 600 万个蛋糕，一年营收 8 亿，7 成来自私域。生日、纪念日和家庭聚会的蛋糕，"
        "由企业微信里的“熊猫”一对一送上门。",
        "audience": _aud(
            0.66, (0.22, 0.43, 0.25, 0.10), (0.15, 0.35, 0.30, 0.20), ["CN-GD", "CN-SC", "CN-HB", "CN-HN"]
        ),
        "channels": [
            _ch("wecom", 2_500_000, 0.3),
            _ch("wechat_group", 900_000, 0.2),
            _ch("miniprogram", 4_000_000, 0.15),
        ],
    },
    {
        "slug": "pop-mart",
        "name": "泡泡玛特",
        "name_en": "Pop Mart",
        "category": "toys.collectibles",
        "price_tier": 3,
        "tone": ["trendy", "young", "cute", "social"],
        "stores": 300,
        "description": "潮流玩具与盲盒。注册会员 320 万（线上+线下），公众号粉丝 200 万，会员整体复购率 58%；"
        "2019 年微信小程序交易额 2.712 亿元、天猫旗舰店 2.51 亿元。私域一年营收超 8.9 亿，会员贡献 90% 的销售。",
        "audience": _aud(
            0.62, (0.38, 0.40, 0.15, 0.07), (0.40, 0.30, 0.20, 0.10), ["CN-BJ", "CN-SH", "CN-GD", "CN-JS"]
        ),
        "channels": [_ch("official_account", 2_000_000, 0.2), _ch("miniprogram", 3_200_000, 0.58, "会员")],
    },
    {
        "slug": "watsons",
        "name": "屈臣氏",
        "name_en": "Watsons",
        "category": "retail.drugstore",
        "price_tier": 2,
        "tone": ["urban", "value", "quality"],
        "stores": 4200,
        "description": "500+ 城市 4200+ 门店；云店百万级日活，6300 万+ 会员，4000 万+ 企业微信好友。"
        "线上线下都买的顾客，消费金额是只逛门店顾客的 2.7 倍。",
        "audience": _aud(
            0.78, (0.30, 0.38, 0.20, 0.12), (0.30, 0.30, 0.25, 0.15), ["CN-GD", "CN-SH", "CN-BJ", "CN-ZJ", "CN-JS"]
        ),
        "channels": [_ch("wecom", 40_000_000, 0.15), _ch("miniprogram", 63_000_000, 0.016, "云店会员")],
    },
    {
        "slug": "liang-jiang-ren",
        "name": "良匠人",
        "name_en": "Liang Jiang Ren Tea Ware",
        "category": "beverage.tea_leaf",
        "price_tier": 4,
        "tone": ["artisan", "classic", "professional"],
        "description": "紫砂壶与茶具，70% 以上的客户是男性，以懂茶的中老年为主。3 天建群 3700+ 人，"
        "开群 24 小时销售额破 15 万，7 天 118 万；免费招募进群率 10.8%，付费招募 9.3%。",
        "audience": _aud(0.28, (0.05, 0.20, 0.35, 0.40), (0.25, 0.25, 0.30, 0.20), ["CN-JS", "CN-ZJ", "CN-FJ"]),
        "channels": [_ch("wechat_group", 3700, 0.6, "鱼塘群/会员群"), _ch("official_account", 40_000, 0.1)],
    },
    {
        "slug": "anta",
        "name": "安踏",
        "name_en": "Anta",
        "category": "apparel.sportswear",
        "price_tier": 3,
        "tone": ["sporty", "national", "value"],
        "stores": 9000,
        "description": "国民运动品牌。10 天内为分销商上线 42 个自营商城，3 万员工在微信里服务老顾客，"
        "单日销售额破千万。",
        "audience": _aud(
            0.45, (0.30, 0.35, 0.22, 0.13), (0.15, 0.25, 0.30, 0.30), ["CN-FJ", "CN-GD", "CN-SD", "CN-HA"]
        ),
        "channels": [
            _ch("wecom", 6_000_000, 0.2, "3 万员工导购"),
            _ch("miniprogram", 12_000_000, 0.08),
            _ch("douyin", 8_000_000, 0.05),
        ],
    },
    {
        "slug": "tcl",
        "name": "TCL",
        "name_en": "TCL",
        "category": "home.appliances",
        "price_tier": 3,
        "tone": ["tech", "family", "value"],
        "description": "家电与智能终端。6.8 万名员工同时是分销员，一次全员社交销售做到 2388 万元，"
        "是同月全国五星电器门店零售额的 5.6 倍。",
        "audience": _aud(0.40, (0.12, 0.38, 0.30, 0.20), (0.15, 0.25, 0.30, 0.30), ["CN-GD", "CN-HB", "CN-SC"]),
        "channels": [_ch("wecom", 3_400_000, 0.12, "6.8 万员工分销员"), _ch("official_account", 5_000_000, 0.05)],
    },
    {
        "slug": "baodao-optical",
        "name": "宝岛眼镜",
        "name_en": "Baodao Optical",
        "category": "accessories.eyewear",
        "price_tier": 3,
        "tone": ["professional", "urban"],
        "stores": 1100,
        "description": "专业验光配镜。会员随时预约到店免费清洗、调校眼镜，用服务留住每一位老顾客。",
        "audience": _aud(
            0.55, (0.25, 0.40, 0.22, 0.13), (0.25, 0.30, 0.25, 0.20), ["CN-TW", "CN-FJ", "CN-SH", "CN-ZJ"]
        ),
        "channels": [_ch("wecom", 1_500_000, 0.25), _ch("miniprogram", 2_000_000, 0.1)],
    },
    {
        "slug": "haagen-dazs",
        "name": "哈根达斯",
        "name_en": "Häagen-Dazs",
        "category": "food.frozen",
        "price_tier": 5,
        "tone": ["premium", "elegant"],
        "stores": 300,
        "description": "高端冰淇淋与甜品。小程序会员尊享新品试吃、生日礼遇与门店专属活动。",
        "audience": _aud(0.64, (0.30, 0.42, 0.18, 0.10), (0.50, 0.30, 0.15, 0.05), ["CN-SH", "CN-BJ", "CN-GD"]),
        "channels": [_ch("miniprogram", 3_000_000, 0.08), _ch("wecom", 500_000, 0.2)],
    },
    {
        "slug": "three-squirrels",
        "name": "三只松鼠",
        "name_en": "Three Squirrels",
        "category": "food.snacks",
        "price_tier": 2,
        "tone": ["cute", "playful", "value"],
        "description": "坚果与休闲零食。“全球坚果后援会”陪粉丝一起选新品、晒包裹、抢福利。",
        "audience": _aud(
            0.60, (0.35, 0.40, 0.17, 0.08), (0.20, 0.30, 0.28, 0.22), ["CN-AH", "CN-JS", "CN-ZJ", "CN-SH"]
        ),
        "channels": [
            _ch("wechat_group", 800_000, 0.2, "全球坚果后援会"),
            _ch("package_insert", 30_000_000, 0.02),
            _ch("douyin", 10_000_000, 0.04),
        ],
    },
    {
        # Down jackets sell to both sexes; the taxonomy has no outerwear leaf. Filed under
        # womenswear because the group's other labels (JESSIE, BUOU BUOU, KOREANO) are
        # womenswear — a judgement, not a figure from the seeds (which do not mention it).
        "slug": "bosideng",
        "name": "波司登",
        "name_en": "Bosideng",
        "category": "apparel.womenswear",
        "price_tier": 4,
        "tone": ["national", "quality", "classic"],
        "stores": 3000,
        "description": "专注羽绒服，为寒冷的冬天做一件好衣服。门店导购在企业微信里为会员提供穿搭和保养建议。",
        "audience": _aud(
            0.58, (0.18, 0.35, 0.27, 0.20), (0.25, 0.30, 0.25, 0.20), ["CN-JS", "CN-HL", "CN-BJ", "CN-LN"]
        ),
        "channels": [_ch("wecom", 2_000_000, 0.15), _ch("miniprogram", 5_000_000, 0.06)],
    },
    # --- further brands the seeds name -------------------------------------------------------
    {
        "slug": "xiaomi",
        "name": "小米",
        "name_en": "Xiaomi",
        "category": "electronics.phones",
        "price_tier": 3,
        "tone": ["tech", "young", "value"],
        "description": "手机与智能生活。“小米发烧友”社区里，10 万开发版用户参与每周迭代，1000 人荣誉内测组，"
        "稳定版用户千万级。",
        "audience": _aud(0.32, (0.30, 0.40, 0.20, 0.10), (0.25, 0.30, 0.25, 0.20), ["CN-BJ", "CN-GD", "CN-JS"]),
        "channels": [_ch("app", 10_000_000, 0.3, "小米社区"), _ch("wecom", 3_000_000, 0.1)],
    },
    {
        "slug": "feihe",
        "name": "飞鹤",
        "name_en": "Feihe",
        "category": "mother_baby",
        "price_tier": 4,
        "tone": ["family", "professional", "national"],
        "description": "更适合中国宝宝体质的奶粉。“飞鹤星妈会”每年举办 30 万场线下活动，陪伴 500 万家庭，"
        "妈妈社群近 1000 万人。",
        "audience": _aud(
            0.85, (0.08, 0.62, 0.25, 0.05), (0.15, 0.25, 0.30, 0.30), ["CN-HL", "CN-BJ", "CN-SD", "CN-HA"]
        ),
        "channels": [
            _ch("wechat_group", 10_000_000, 0.15, "星妈会"),
            _ch("official_account", 4_000_000, 0.1, "飞鹤星妈会"),
        ],
    },
    {
        "slug": "lechun",
        "name": "乐纯",
        "name_en": "Lechun Yogurt",
        "category": "food.dairy",
        "price_tier": 4,
        "tone": ["natural", "healthy", "young"],
        "description": "和用户一起做的酸奶：开店前先聚集 3000 名粉丝试吃打磨；卖到 20 万盒时，"
        "2000 多位粉丝参与了包装投稿。",
        "audience": _aud(0.70, (0.30, 0.48, 0.15, 0.07), (0.70, 0.20, 0.07, 0.03), ["CN-BJ", "CN-SH"]),
        "channels": [_ch("official_account", 200_000, 0.25), _ch("wechat_group", 3000, 0.8, "首批粉丝")],
        "status": "pending",
    },
    {
        "slug": "keep",
        "name": "Keep",
        "name_en": "Keep",
        "category": "fitness",
        "price_tier": 2,
        "tone": ["sporty", "healthy", "young"],
        "description": "自律给我自由。根据你的运动能力测试推荐训练课程和饮食计划。",
        "audience": _aud(0.60, (0.38, 0.42, 0.14, 0.06), (0.40, 0.30, 0.20, 0.10), ["CN-BJ", "CN-SH", "CN-GD"]),
        "channels": [_ch("app", 30_000_000, 0.1)],
    },
    {
        "slug": "youngor",
        "name": "雅戈尔",
        "name_en": "Youngor",
        "category": "apparel.menswear",
        "price_tier": 3,
        "tone": ["classic", "professional"],
        "description": "经典男装，衬衫与西服。门店顾问在企业微信里为会员提供量体和搭配服务。",
        "audience": _aud(0.25, (0.08, 0.30, 0.35, 0.27), (0.20, 0.25, 0.30, 0.25), ["CN-ZJ", "CN-SH", "CN-JS"]),
        "channels": [_ch("wecom", 800_000, 0.15)],
    },
    {
        "slug": "kans",
        "name": "韩束",
        "name_en": "KanS",
        "category": "beauty.skincare",
        "price_tier": 2,
        "tone": ["young", "value"],
        "description": "国货护肤，为年轻肌肤提供高性价比的补水修护方案。",
        "audience": _aud(0.88, (0.35, 0.40, 0.17, 0.08), (0.10, 0.25, 0.30, 0.35), ["CN-SH", "CN-GD", "CN-HA"]),
        "channels": [_ch("douyin", 6_000_000, 0.05), _ch("wecom", 700_000, 0.2)],
    },
    {
        "slug": "jahwa",
        "name": "上海家化",
        "name_en": "Shanghai Jahwa",
        "category": "beauty.skincare",
        "price_tier": 3,
        "tone": ["classic", "national"],
        "description": "百年日化企业，旗下多个经典护肤与个护品牌。",
        "audience": _aud(0.80, (0.20, 0.35, 0.27, 0.18), (0.25, 0.25, 0.25, 0.25), ["CN-SH", "CN-JS", "CN-ZJ"]),
        "channels": [_ch("miniprogram", 1_500_000, 0.1)],
        "status": "pending",
    },
    {
        "slug": "cosmo-lady",
        "name": "都市丽人",
        "name_en": "Cosmo Lady",
        "category": "apparel.womenswear",
        "price_tier": 2,
        "tone": ["value", "warm"],
        "description": "舒适内衣与家居服，全国门店导购一对一服务会员。",
        "audience": _aud(0.92, (0.20, 0.38, 0.27, 0.15), (0.10, 0.20, 0.30, 0.40), ["CN-GD", "CN-GX", "CN-HN"]),
        "channels": [_ch("wecom", 1_000_000, 0.15)],
        "stores": 6000,
    },
    {
        "slug": "midea",
        "name": "美的",
        "name_en": "Midea",
        "category": "home.appliances",
        "price_tier": 3,
        "tone": ["tech", "family"],
        "description": "全屋家电与智能家居，“美的美居”App 连接家里的每一台设备。",
        "audience": _aud(0.45, (0.10, 0.38, 0.32, 0.20), (0.20, 0.25, 0.30, 0.25), ["CN-GD", "CN-JS", "CN-ZJ"]),
        "channels": [_ch("app", 20_000_000, 0.1, "美的美居"), _ch("wecom", 2_000_000, 0.1)],
    },
    {
        "slug": "dishah",
        "name": "笛莎公主衣橱",
        "name_en": "Dishah Princess Wardrobe",
        "category": "apparel.kids",
        "price_tier": 3,
        "tone": ["cute", "family"],
        "description": "女童公主裙与童装。每周三会员日上新和专属福利，线上下单、到店自提。",
        "audience": _aud(0.90, (0.05, 0.60, 0.30, 0.05), (0.20, 0.35, 0.30, 0.15), ["CN-ZJ", "CN-SH", "CN-JS"]),
        "channels": [_ch("miniprogram", 400_000, 0.2), _ch("wechat_group", 60_000, 0.3)],
    },
    {
        "slug": "zhong-xue-gao",
        "name": "钟薛高",
        "name_en": "Chicecream",
        "category": "food.frozen",
        "price_tier": 4,
        "tone": ["trendy", "national", "premium"],
        "description": "中式雪糕，用好原料做一支有味道的雪糕。",
        "audience": _aud(0.60, (0.40, 0.40, 0.14, 0.06), (0.45, 0.30, 0.17, 0.08), ["CN-SH", "CN-BJ"]),
        "channels": [_ch("xiaohongshu", 900_000, 0.06), _ch("miniprogram", 700_000, 0.1)],
        "status": "rejected",
        "reason": "资料不全：请补充与统一社会信用代码对应的营业执照。",
    },
]

for _n, _brand in enumerate(SEED_BRANDS, start=1):
    _brand["credit_code"] = fictitious_credit_code(_n)
    _brand.setdefault("status", "approved")

# Blocks between seed brands (each side's own choice; competition already covers same-leaf pairs).
SEED_BLOCKS = {
    "haagen-dazs": ["three-squirrels"],  # premium positioning: no swaps with a value snack brand
    "youngor": ["keep"],
}

# Where each description's figures come from (the seed articles) and which numbers are estimates.
# Kept here, in code, so the brand pages read like the brands' own profiles.
SOURCES: dict[str, str] = {
    "luckin-coffee": "seed 003《电商品牌：私域不自私》: 3.5 万杯/天 in private domain, mini-program the main "
    "ordering channel. Store count and WeCom/mini-program sizes from the issue-2 import example; "
    "group size and audience shares estimated.",
    "panda-bubuzou": "seed 003: 600 万 cakes in 3 years, 8 亿 revenue a year, 7 成 private domain. "
    "Channel sizes and audience estimated.",
    "pop-mart": "seed 001 (citing the prospectus): 320 万 members, 200 万 official-account followers, "
    "58% member repurchase rate (used as the mini-program active rate), 2019 mini-program GMV 2.712 亿; "
    "seed 003: private domain 8.9 亿+ a year, members 90% of sales. Official-account active rate estimated.",
    "watsons": "seed 000《私域+ 生意增长》: 500+ cities, 4200+ stores, cloud-store DAU in the millions, "
    "6300 万+ members, 4000 万+ WeCom users, O2O customers spend 2.7×. Mini-program active rate = "
    "100 万 DAU / 6300 万 members; WeCom active rate estimated.",
    "liang-jiang-ren": "seed 001: 70%+ male, mostly middle-aged; 3700+ joined the group in 3 days, 15 万 in "
    "24 h, 118 万 in 7 days. Group active rate and official-account size estimated.",
    "anta": "seed 001: 42 self-run shops for distributors within 10 days, 3 万 staff selling on WeChat, "
    "over 千万 in a day. Channel sizes and audience estimated.",
    "tcl": "seed 001: 6.8 万 staff as distributors, 2388 万 in social sales, 5.6× the month's 五星电器 retail. "
    "Channel sizes and audience estimated.",
    "baodao-optical": "seed 003: free glasses cleaning for members. No figures in the article; sizes estimated.",
    "haagen-dazs": "seed 001: signed with Youzan chain. No figures; sizes estimated.",
    "three-squirrels": "seed 001: fans run as the “全球坚果后援会”. No figures; sizes estimated.",
    "bosideng": "named in issue 2, not in the seeds: no figures; filed under womenswear (the group's other "
    "labels are womenswear). Sizes estimated.",
    "xiaomi": "seed 001: 10 万 active developer-build users, 1000-person test group, stable-build users in the "
    "千万s (the app size takes the lower bound). Active rates estimated.",
    "feihe": "seed 001: 30 万 offline events a year, 500 万 users educated, mother groups of nearly 1000 万, "
    "revenue 30 亿 → 100 亿 in 3 years. Filed under mother & baby (the buyers are mothers). Active rates estimated.",
    "lechun": "seed 001: 3000 fans before the first shop; 2000+ packaging submissions at 20 万 boxes. "
    "Official-account size estimated.",
    "keep": "seed 001: courses and diets from a fitness test. No figures; sizes estimated.",
    "youngor": "seed 001: growth through Youzan chain. No figures; sizes estimated.",
    "kans": "seed 001: growth through Youzan chain. No figures; sizes estimated.",
    "jahwa": "seed 001 (mis-encoded as 上海镓化): signed with Youzan chain. No figures; sizes estimated.",
    "cosmo-lady": "seed 001: signed with Youzan chain. No figures; sizes estimated.",
    "midea": "seed 001: signed with Youzan chain. No figures; sizes estimated.",
    "dishah": "seed 001: Wednesday member day, pick-up in store. No figures; sizes estimated.",
    "zhong-xue-gao": "seed 001: carried by neighbourhood retailers as a trending product. No figures; sizes estimated.",
}
