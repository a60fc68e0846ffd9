from partners.models import Category


def test_taxonomy_ships_every_leaf_the_product_names(db):
    leaves = set(Category.objects.filter(is_leaf=True).values_list("code", flat=True))
    required = {
        "beverage.coffee",
        "beverage.tea_drinks",
        "beverage.tea_leaf",
        "beverage.alcohol",
        "food.bakery",
        "food.snacks",
        "food.dairy",
        "food.frozen",
        "restaurant.fast_food",
        "restaurant.hotpot",
        "beauty.skincare",
        "beauty.makeup",
        "beauty.fragrance",
        "apparel.sportswear",
        "apparel.womenswear",
        "apparel.menswear",
        "apparel.kids",
        "accessories.eyewear",
        "accessories.jewelry",
        "toys.collectibles",
        "toys.kids",
        "home.appliances",
        "home.furniture",
        "home.paint",
        "electronics.phones",
        "electronics.audio",
        "retail.drugstore",
        "retail.supermarket",
        "health.supplements",
        "mother_baby",
        "pets",
        "fitness",
        "education.kids",
        "travel.hotels",
    }
    assert required <= leaves
    assert not Category.objects.get(code="beverage").is_leaf
