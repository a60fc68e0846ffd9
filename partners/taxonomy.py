"""The category taxonomy shipped with the product (loaded by a data migration).

Codes are dotted paths; a brand's category is always a leaf. Two brands in the same leaf
compete. Top-level entries without children (``pets``) are leaves themselves.
"""

# (code, name_zh, name_en)
TAXONOMY: list[tuple[str, str, str]] = [
    ("beverage", "饮品", "Beverages"),
    ("beverage.coffee", "咖啡", "Coffee"),
    ("beverage.tea_drinks", "新茶饮", "Tea drinks"),
    ("beverage.tea_leaf", "茶叶茶具", "Tea leaf & tea ware"),
    ("beverage.alcohol", "酒类", "Alcohol"),
    ("food", "食品", "Food"),
    ("food.bakery", "烘焙", "Bakery"),
    ("food.snacks", "休闲零食", "Snacks"),
    ("food.dairy", "乳制品", "Dairy"),
    ("food.frozen", "冷冻冰品", "Frozen & ice cream"),
    ("restaurant", "餐饮", "Restaurants"),
    ("restaurant.fast_food", "快餐", "Fast food"),
    ("restaurant.hotpot", "火锅", "Hotpot"),
    ("beauty", "美妆个护", "Beauty"),
    ("beauty.skincare", "护肤", "Skincare"),
    ("beauty.makeup", "彩妆", "Makeup"),
    ("beauty.fragrance", "香水香氛", "Fragrance"),
    ("apparel", "服饰", "Apparel"),
    ("apparel.sportswear", "运动服饰", "Sportswear"),
    ("apparel.womenswear", "女装", "Womenswear"),
    ("apparel.menswear", "男装", "Menswear"),
    ("apparel.kids", "童装", "Kidswear"),
    ("accessories", "配饰", "Accessories"),
    ("accessories.eyewear", "眼镜", "Eyewear"),
    ("accessories.jewelry", "珠宝首饰", "Jewelry"),
    ("toys", "玩具", "Toys"),
    ("toys.collectibles", "潮玩收藏", "Collectibles"),
    ("toys.kids", "儿童玩具", "Kids' toys"),
    ("home", "家居", "Home"),
    ("home.appliances", "家电", "Home appliances"),
    ("home.furniture", "家具", "Furniture"),
    ("home.paint", "涂料", "Paint"),
    ("electronics", "数码", "Electronics"),
    ("electronics.phones", "手机", "Phones"),
    ("electronics.audio", "音频设备", "Audio"),
    ("retail", "零售", "Retail"),
    ("retail.drugstore", "个护药妆连锁", "Drugstores"),
    ("retail.supermarket", "商超", "Supermarkets"),
    ("health", "健康", "Health"),
    ("health.supplements", "营养保健", "Supplements"),
    ("mother_baby", "母婴", "Mother & baby"),
    ("pets", "宠物", "Pets"),
    ("fitness", "健身运动", "Fitness"),
    ("education", "教育", "Education"),
    ("education.kids", "少儿教育", "Kids' education"),
    ("travel", "旅行", "Travel"),
    ("travel.hotels", "酒店", "Hotels"),
]


def parent_code(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def leaf_codes() -> list[str]:
    codes = [c for c, _, _ in TAXONOMY]
    return [c for c in codes if not any(o.startswith(c + ".") for o in codes)]
