"""Reasons in both languages, and dismissals that stick."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from matching import services
from matching.errors import MatchingError
from matching.models import Dismissal, Recommendation
from matching.selectors import recommendation_list
from tests.factories import make_brand

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def pair(owner):
    me = owner.memberships.get().brand
    me.active_audience = 120_000
    me.price_tier = 3
    me.tone_tags = ["young", "urban"]
    me.save()
    partner = make_brand("bakery-one", "food.bakery", scale=96_000, tones=["young", "urban", "quality"])
    others = [make_brand(f"p-{i}", code) for i, code in enumerate(["food.snacks", "fitness", "pets", "home.furniture"])]
    return me, partner, others


def test_every_recommendation_has_two_to_four_reasons_in_both_languages(pair):
    me, partner, others = pair
    services.recommendations_refresh_all()
    recs = list(Recommendation.objects.all())
    assert recs
    for rec in recs:
        assert 2 <= len(rec.reasons_zh) <= 4
        assert len(rec.reasons_en) == len(rec.reasons_zh)
        assert all(CJK.search(r) for r in rec.reasons_zh)
        assert not any(CJK.search(r) for r in rec.reasons_en)
        assert set(rec.components) >= {"scale", "positioning", "audience", "category"}
        assert all(0 <= rec.components[k] <= 1 for k in ("scale", "positioning", "audience", "category"))
        assert 0 <= rec.score <= 1


def test_reasons_quote_the_data_behind_the_components(pair):
    me, partner, _ = pair
    services.recommendations_refresh_brand(brand_id=me.pk)
    rec = Recommendation.objects.get(brand=me, partner=partner)
    assert "规模相当：活跃受众 12万 vs 9.6万" in rec.reasons_zh
    assert "Comparable scale: 120K vs 96K active audience" in rec.reasons_en
    assert "同为中端定位，调性相近（年轻、都市）" in rec.reasons_zh
    assert "Both mid-range, similar tone (young, urban)" in rec.reasons_en
    assert "客群相近：25–34岁女性为主" in rec.reasons_zh
    assert rec.reasons("en") == rec.reasons_en and rec.reasons("zh-hans") == rec.reasons_zh


def test_missing_audience_dimensions_do_not_break_scoring_or_reasons(pair):
    me, _, _ = pair
    bare = make_brand("bare-profile", "pets", audience={})
    make_brand("only-regions", "fitness", audience={"regions": ["CN-SH"]})
    services.recommendations_refresh_brand(brand_id=bare.pk)
    recs = Recommendation.objects.filter(brand=bare)
    assert recs.exists()
    assert all(2 <= len(r.reasons_zh) <= 4 for r in recs)


def test_dismissed_partner_is_never_shown_again_even_after_refreshes(pair, owner_actor):
    me, partner, _ = pair
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert Recommendation.objects.filter(brand=me, partner=partner).exists()
    services.recommendation_dismiss(actor=owner_actor, brand=me, partner=partner)
    assert Dismissal.objects.filter(brand=me, partner=partner).exists()
    assert partner not in [r.partner for r in recommendation_list(actor=owner_actor, brand=me)]
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert not Recommendation.objects.filter(brand=me, partner=partner).exists()
    services.recommendations_refresh_all()
    assert not Recommendation.objects.filter(brand=me, partner=partner).exists()
    # only for the brand that dismissed: the partner still sees ``me``
    assert Recommendation.objects.filter(brand=partner, partner=me).exists()


def test_dismiss_by_another_brands_user_is_refused_and_changes_nothing(pair, other_actor):
    me, partner, _ = pair
    services.recommendations_refresh_brand(brand_id=me.pk)
    with pytest.raises(ValidationError) as exc:
        services.recommendation_dismiss(actor=other_actor, brand=me, partner=partner)
    assert exc.value.error_dict["__all__"][0].code == MatchingError.PERMISSION_DENIED
    assert not Dismissal.objects.exists()
    assert Recommendation.objects.filter(brand=me, partner=partner).exists()


def test_dismissing_itself_is_refused(pair, owner_actor):
    me, _, _ = pair
    with pytest.raises(ValidationError) as exc:
        services.recommendation_dismiss(actor=owner_actor, brand=me, partner=me)
    assert exc.value.error_dict["partner"][0].code == MatchingError.SELF_PAIR
    assert not Dismissal.objects.exists()


def test_dismiss_is_idempotent(pair, owner_actor):
    me, partner, _ = pair
    first = services.recommendation_dismiss(actor=owner_actor, brand=me, partner=partner)
    second = services.recommendation_dismiss(actor=owner_actor, brand=me, partner=partner)
    assert first.pk == second.pk and Dismissal.objects.count() == 1
    # Audited once, in the dismissing brand's history.
    from partners.models import AuditAction, AuditEvent

    event = AuditEvent.objects.get(action=AuditAction.RECOMMENDATION_DISMISSED)
    assert (event.brand, event.actor, event.object_id) == (me, owner_actor.user, str(first.pk))
    assert event.data == {"partner": partner.slug}


def test_reasons_with_quotes_and_backslashes_survive_the_bulk_write(pair):
    me, partner, _ = pair
    odd = 'q"t\\x'
    for brand in (me, partner):
        brand.tone_tags = [odd, "young"]
        brand.save()
    services.recommendations_refresh_all()
    rec = Recommendation.objects.get(brand=me, partner=partner)
    assert any(odd in r for r in rec.reasons_zh), rec.reasons_zh


def test_components_are_readable_and_writable_as_one_dict(pair):
    me, partner, _ = pair
    rec = Recommendation.objects.create(
        brand=me,
        partner=partner,
        rank=1,
        score=0.5,
        components={"scale": 0.9, "positioning": 0.8, "audience": 0.7, "category": 0.6, "learned": None},
    )
    rec.refresh_from_db()
    assert rec.components == {"scale": 0.9, "positioning": 0.8, "audience": 0.7, "category": 0.6, "learned": None}
    assert (rec.scale_fit, rec.learned_score) == (0.9, None)


# --- Undoing a dismissal -------------------------------------------------------------------------
def test_undismiss_lets_the_partner_be_recommended_again_and_is_audited(pair, owner_actor):
    from partners.models import AuditAction, AuditEvent

    me, partner, _ = pair
    services.recommendation_dismiss(actor=owner_actor, brand=me, partner=partner)
    assert services.recommendation_undismiss(actor=owner_actor, brand=me, partner=partner) is True
    assert not Dismissal.objects.exists()
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert partner in [r.partner for r in recommendation_list(actor=owner_actor, brand=me)]
    event = AuditEvent.objects.get(action=AuditAction.RECOMMENDATION_UNDISMISSED)
    assert (event.brand, event.actor, event.data) == (me, owner_actor.user, {"partner": partner.slug})


def test_undismiss_is_idempotent_and_audited_once(pair, owner_actor):
    from partners.models import AuditAction, AuditEvent

    me, partner, _ = pair
    services.recommendation_dismiss(actor=owner_actor, brand=me, partner=partner)
    services.recommendation_undismiss(actor=owner_actor, brand=me, partner=partner)
    assert services.recommendation_undismiss(actor=owner_actor, brand=me, partner=partner) is False
    assert AuditEvent.objects.filter(action=AuditAction.RECOMMENDATION_UNDISMISSED).count() == 1


def test_undismiss_by_another_brands_user_or_a_viewer_is_refused(pair, owner_actor, other_actor):
    from partners.actors import Actor
    from partners.models import Role
    from tests.factories import MembershipFactory, UserFactory

    me, partner, _ = pair
    services.recommendation_dismiss(actor=owner_actor, brand=me, partner=partner)
    viewer = Actor(user=MembershipFactory(brand=me, role=Role.VIEWER, user=UserFactory()).user)
    for actor in (other_actor, viewer):
        with pytest.raises(ValidationError) as exc:
            services.recommendation_undismiss(actor=actor, brand=me, partner=partner)
        assert exc.value.error_dict["__all__"][0].code == MatchingError.PERMISSION_DENIED
    assert Dismissal.objects.count() == 1


def test_reasons_name_the_features_the_serving_model_weighs_with_the_pairs_values():
    """A model that learned only the gender mix matters: its reason names that feature (the
    matcher page's label) with the pair's value; the heuristic serving has no such reason."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from matching import explain, generator, ranker
    from matching.features import build_market

    gm = generator.generate_market(400, seed=7)
    market = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing, seed=7)
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, market.n, 3000), rng.integers(0, market.n, 3000)
    feats = ranker.pair_features(market, a, b, ranker.HEURISTIC)
    heur = ranker.components(feats) @ ranker.HEURISTIC_WEIGHTS
    X = ranker.feature_matrix(feats, heur, ranker.LEARNED_FEATURES)
    y = np.nan_to_num(feats["gender_overlap"], nan=0.0) > 0.8
    art = ranker.Artefact(version=3, model=HistGradientBoostingClassifier(max_iter=30).fit(X, y), blend_weight=0.6)
    art.features = ranker.LEARNED_FEATURES
    assert explain.feature_weights(art)[0][0] == "gender_overlap"
    assert explain.feature_weights(ranker.HEURISTIC) == []

    rows = np.arange(20)
    partners = np.stack([(rows + d) % market.n for d in (1, 2, 3)], axis=1)
    comps = np.full(partners.shape + (4,), 0.3, np.float32)
    scores, learned = np.full(partners.shape, 0.5, np.float32), np.full(partners.shape, 0.5, np.float32)
    _q, _r, dst, ids, zh, en, *_ = explain.explain_pairs(market, rows, partners, scores, comps, learned, art)
    src = np.repeat(rows, 3)
    gender = ranker.pair_features(market, src, dst, art)["gender_overlap"]
    for k in range(len(dst)):
        reasons_zh = [zh[x] for x in ids[k] if x >= 0]
        reasons_en = [en[x] for x in ids[k] if x >= 0]
        assert 2 <= len(reasons_en) <= 4
        if np.isnan(gender[k]):
            continue
        value = f"{round(100 * float(gender[k]))}%"
        assert reasons_en[0].startswith(f"What the model weighs most: gender mix overlap {value}")
        assert reasons_zh[0].startswith("模型最看重：") and value in reasons_zh[0]
    # the heuristic serving: the four components only
    *_, ids_h, zh_h, en_h, _s, _c, _l = explain.explain_pairs(
        market, rows, partners, scores, comps, learned, ranker.HEURISTIC
    )
    assert not any("model" in en_h[x] for row in ids_h for x in row if x >= 0)
