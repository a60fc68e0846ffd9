"""The brands the seed articles (/work/shared/seeds, "seed 000" … "seed 003") name, as
bulk-import payloads (docs/IMPORT.md).

Where an article gives a figure it is used and cited in the brand's description; every other
number (channel sizes without a source, audience shares, price tiers) is an illustrative
estimate and the description says so. Credit codes are FICTITIOUS but valid: the first 17
characters are made up and the 18th is the GB 32100-2015 check character, so they pass
validation without naming any real company's registration.

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


EST = "其余渠道规模与人群画像为演示用估计值。"  # "other channel sizes and audience shares are demo estimates"

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
        "description": "私域一天卖出 3.5 万杯，主要下单渠道是小程序（种子文章 003《电商品牌：私域不自私》）。"
        "门店数与企微/小程序规模取自 issue 2 的导入示例。" + EST,
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
        "description": "3 年卖出 600 万个蛋糕，一年营收 8 亿，私域占 7 成（种子文章 003）。" + EST,
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
        "description": "注册会员 320 万（线上+线下），公众号粉丝 200 万，2019 年会员整体复购率 58%；2019 年微信小程序"
        "交易额 2.712 亿元，天猫旗舰店 2.51 亿元（种子文章 001，引招股书）。私域一年营收超 8.9 亿，会员销售贡献占比 "
        "90%（种子文章 003）。小程序会员活跃率取复购率 58%；公众号活跃率为估计值。",
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
        "description": "500+ 城市 4200+ 门店；云店百万级 DAU，6300 万+ 会员，4000 万+ 企微用户；O2O 消费者的消费金额是"
        "纯线下消费者的 2.7 倍（种子文章 000《私域+ 生意增长》）。小程序活跃率按 100 万 DAU / 6300 万会员计；企微活跃率为估计值。",
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
        "description": "紫砂壶、茶具；客户 70% 以上为男性且中老年居多。3 天拉群 3700+ 人，拉群后 24 小时销售额破 15 万，"
        "7 天销售额 118 万；免费招募进群率 10.8%，付费招募 9.3%（种子文章 001）。社群活跃率与公众号规模为估计值。",
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
        "description": "2020 年疫情后 10 天内帮分销商上线 42 个自营商城，3 万员工通过微信向老用户销售，单日销售额破千万"
        "（种子文章 001）。" + EST,
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
        "description": "2020 年 2 月借有赞连锁把 6.8 万名员工转为分销员，全员社交销售 2388 万元，相当于当月在全国五星电器"
        "零售总额的 5.6 倍（种子文章 001）。" + EST,
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
        "description": "私域平台为会员提供眼镜清洗服务，以服务差异留住用户（种子文章 003）。文章未给规模数字；" + EST,
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
        "description": "已签约有赞连锁开展私域合作（种子文章 001）。文章未给规模数字；" + EST,
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
        "description": "以“全球坚果后援会”经营粉丝，被列为“品牌-渠道-私域”阶段的代表（种子文章 001）。文章未给规模数字；"
        + EST,
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
        "description": "羽绒服品牌（issue 2 点名；种子文章未提及，无引用数字）。归入女装：集团旗下另有女装品牌。" + EST,
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
        "description": "“小米发烧友”社区：MIUI 开发版 10 万活跃用户参与每周迭代，1000 人荣誉内测组，稳定版用户千万级"
        "（种子文章 001）。App 规模取千万级的下限；活跃率为估计值。",
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
        "description": "“飞鹤星妈会”：每年 30 万场线下活动、教育 500 万用户，妈妈群沉淀近 1000 万精准流量；3 年营收从 30 亿"
        "到 100 亿（种子文章 001）。归入母婴而非乳制品：婴幼儿奶粉的买家是妈妈。活跃率为估计值。",
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
        "description": "开店前先聚集 3000 名粉丝做最小可行产品；卖到 20 万盒时，2000 多人参与包装投稿（种子文章 001）。"
        "公众号规模为估计值。",
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
        "description": "按运动能力测试推荐训练课程与饮食（种子文章 001）。文章未给规模数字；" + EST,
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
        "description": "通过有赞连锁取得业绩增长（种子文章 001）。文章未给规模数字；" + EST,
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
        "description": "通过有赞连锁取得业绩增长（种子文章 001）。文章未给规模数字；" + EST,
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
        "description": "已签约有赞连锁（种子文章 001，原文误作“上海镓化”）。文章未给规模数字；" + EST,
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
        "description": "已签约有赞连锁（种子文章 001）。文章未给规模数字；" + EST,
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
        "description": "已签约有赞连锁（种子文章 001）。文章未给规模数字；" + EST,
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
        "description": "每周三会员日提升增购、复购和留存，可到店自提，线上线下打通（种子文章 001）。文章未给规模数字；"
        + EST,
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
        "description": "被小区零售商作为网红爆款引入线上商城（种子文章 001）。文章未给规模数字；" + EST,
        "audience": _aud(0.60, (0.40, 0.40, 0.14, 0.06), (0.45, 0.30, 0.17, 0.08), ["CN-SH", "CN-BJ"]),
        "channels": [_ch("xiaohongshu", 900_000, 0.06), _ch("miniprogram", 700_000, 0.1)],
        "status": "rejected",
        "reason": "演示：资料不全，请补充统一社会信用代码对应的营业执照。",
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
