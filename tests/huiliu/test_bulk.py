"""huiliu.bulk: COPY on PostgreSQL, bulk_create / executemany elsewhere, UPDATE … FROM VALUES.

Every writer test runs twice: on the test database (PostgreSQL in CI: the COPY path) and on
an in-memory SQLite database next to it (the embedded default's path), so both write the
same rows. The encoder and the loop helpers are tested on their own.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, connections, transaction

from huiliu import bulk
from matching.models import Recommendation
from partners.models import Brand, BrandStatus, Category, Channel, ChannelType, Verification

SQLITE = "bulk_sqlite"
NOW = datetime.datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=datetime.UTC)
TRICKY = 'tab\there, newline\nthere, CR\r, back\\slash, quote " and 中文'


@pytest.fixture
def sqlite(django_db_blocker):
    """An in-memory SQLite database beside the test database, with the tables these tests
    write; foreign keys are not checked there (rows point at brands it does not hold)."""
    connections.settings[SQLITE] = connections.configure_settings(
        {
            "default": dict(connections.settings["default"]),
            SQLITE: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        }
    )[SQLITE]
    with django_db_blocker.unblock():
        conn = connections[SQLITE]
        with conn.schema_editor() as editor:
            for model in (Category, Brand, Channel, Recommendation):
                editor.create_model(model)
        conn.disable_constraint_checking()
        try:
            yield conn
        finally:
            conn.close()
            del connections[SQLITE]
            del connections.settings[SQLITE]


@pytest.fixture(params=["default", "sqlite"])
def conn(request):
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite")
    request.getfixturevalue("db")
    return connection


def _category_id() -> int:
    # Its own row: the shipped taxonomy is gone after a transactional test's flush.
    return Category.objects.get_or_create(code="bulk.test", defaults={"name_zh": "测试", "name_en": "Test"})[0].pk


@pytest.fixture
def category_id(conn):
    return 1 if conn.alias == SQLITE else _category_id()


@pytest.fixture
def brand_id(conn, category_id):
    if conn.alias == SQLITE:
        return 7
    return Brand.objects.create(slug="host", name="宿主", category_id=category_id).pk


def _recommendation(brand_id: int, partner_id: int, **extra) -> list:
    values = {
        "brand_id": brand_id,
        "partner_id": partner_id,
        "rank": 1,
        "score": 0.5,
        "learned_score": None,
        "reasons_zh": '["规模相当"]',
        "reasons_en": '["similar scale"]',
        "created_at": NOW,
    }
    values.update(extra)
    return [values[c] for c in REC_COLUMNS]


REC_COLUMNS = ("brand_id", "partner_id", "rank", "score", "learned_score", "reasons_zh", "reasons_en", "created_at")


# --- copy_dicts / copy_rows ----------------------------------------------------------------------
def test_copy_dicts_writes_values_and_fills_what_a_row_leaves_out_with_the_field_defaults(conn, category_id):
    rows = [
        {
            "slug": f"b-{i}",
            "name": f"品牌 {i}",
            "category_id": category_id,
            "tone_tags": ["young", "国潮"],
            "audience": {"gender": {"female": 0.6, "male": 0.4}, "regions": ["CN-SH"]},
            "status": BrandStatus.APPROVED,  # a TextChoices member is written as its value
            "description": TRICKY,
            "active_audience": 2**40 + i,
            "created_at": NOW,
        }
        for i in range(5)
    ]
    assert bulk.copy_dicts(Brand, rows, connection=conn) == 5

    stored = list(Brand.objects.using(conn.alias).order_by("slug"))
    assert [b.slug for b in stored] == [f"b-{i}" for i in range(5)]
    b = stored[3]
    assert b.tone_tags == ["young", "国潮"]
    assert b.audience == {"gender": {"female": 0.6, "male": 0.4}, "regions": ["CN-SH"]}
    assert (b.status, b.active_audience, b.created_at) == ("approved", 2**40 + 3, NOW)
    assert b.description == TRICKY
    # left out: the model's defaults, and "now" for an auto_now field
    assert (b.price_tier, b.website, b.store_count, b.status_changed_at) == (3, "", 0, None)
    assert b.updated_at > NOW


def test_copy_rows_round_trips_nulls_and_json_given_as_text_or_as_objects(conn):
    rows = [
        _recommendation(1, 2, reasons_zh=json.dumps([TRICKY], ensure_ascii=False)),  # JSON escapes: backslashes
        _recommendation(1, 3, learned_score=0.25, reasons_en=["given", "as a list"]),
        _recommendation(1, 4, reasons_en="[]"),
    ]
    assert bulk.copy_rows(Recommendation, REC_COLUMNS, rows, connection=conn) == 3

    recs = {r.partner_id: r for r in Recommendation.objects.using(conn.alias).all()}
    assert recs[2].reasons_zh == [TRICKY]
    assert (recs[2].learned_score, recs[3].learned_score) == (None, 0.25)
    assert recs[3].reasons_en == ["given", "as a list"]
    assert recs[4].reasons_en == []
    assert recs[4].created_at == NOW


def test_copy_rows_reports_progress_after_each_batch(conn):
    seen: list[int] = []
    rows = (_recommendation(1, p) for p in range(2, 9))  # a generator: 7 rows
    written = bulk.copy_rows(Recommendation, REC_COLUMNS, rows, connection=conn, batch_size=3, progress=seen.append)
    assert written == 7 and seen == [3, 6, 7]
    assert Recommendation.objects.using(conn.alias).count() == 7


def test_copy_rows_into_a_table_by_name(conn, brand_id):
    columns = ("brand_id", "type", "label", "size", "active_rate", "verification", "verified_at", "created_at")
    rows = [
        (brand_id, ChannelType.WECOM, "", 10**12, 0.5, Verification.AUDITED, NOW, NOW),
        (brand_id, "sms", "北京\t门店", 0, 0.0, "self_reported", None, NOW),
    ]
    assert bulk.copy_rows(Channel._meta.db_table, columns, rows, connection=conn) == 2
    channels = list(Channel.objects.using(conn.alias).order_by("type"))
    assert [(c.type, c.label, c.size, c.verification) for c in channels] == [
        ("sms", "北京\t门店", 0, "self_reported"),
        ("wecom", "", 10**12, "audited"),
    ]
    assert (channels[0].verified_at, channels[1].verified_at) == (None, NOW)


def test_copy_columns_streams_every_chunk_of_a_generator(conn):
    def chunks():
        for start in (10, 20):
            partners = list(range(start, start + 4))
            yield [
                [1] * 4,
                partners,
                [1, 2, 3, 4],
                [0.9, 0.8, 0.7, 0.6],
                [None, 0.5, None, 0.125],
                ['["甲"]'] * 4,
                ['["a"]'] * 4,
                [NOW] * 4,
            ]

    seen: list[int] = []
    assert bulk.copy_columns(Recommendation, REC_COLUMNS, chunks(), connection=conn, progress=seen.append) == 8
    assert seen == [4, 8]
    recs = list(Recommendation.objects.using(conn.alias).order_by("partner_id"))
    assert [r.partner_id for r in recs] == [10, 11, 12, 13, 20, 21, 22, 23]
    assert [r.learned_score for r in recs[:4]] == [None, 0.5, None, 0.125]
    assert recs[5].reasons_zh == ["甲"] and recs[5].rank == 2 and recs[5].score == 0.8


# --- update_rows ----------------------------------------------------------------------------------
def test_update_rows_writes_the_named_fields_of_every_object_in_batches(conn, category_id):
    bulk.copy_dicts(
        Brand,
        ({"slug": f"u-{i}", "name": f"old {i}", "category_id": category_id, "description": "keep"} for i in range(5)),
        connection=conn,
    )
    objs = list(Brand.objects.using(conn.alias).order_by("slug"))
    for i, b in enumerate(objs):
        b.name, b.tone_tags, b.audience, b.price_tier = f"new {i}", [f"t{i}"], {"regions": ["CN-BJ"]}, 5
        b.status_changed_at, b.description = NOW, "not written"
    fields = ["name", "tone_tags", "audience", "price_tier", "category", "status_changed_at"]
    assert bulk.update_rows(objs, fields, connection=conn, batch_size=2) == 5

    stored = list(Brand.objects.using(conn.alias).order_by("slug"))
    assert [b.name for b in stored] == [f"new {i}" for i in range(5)]
    assert stored[4].tone_tags == ["t4"] and stored[4].audience == {"regions": ["CN-BJ"]}
    assert {(b.price_tier, b.status_changed_at, b.description) for b in stored} == {(5, NOW, "keep")}
    assert bulk.update_rows([], fields, connection=conn) == 0


# --- PostgreSQL only ------------------------------------------------------------------------------
@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")


def test_a_refused_row_raises_djangos_database_error(postgres):
    with pytest.raises(DatabaseError), transaction.atomic():
        bulk.copy_dicts(Brand, [{"slug": "no-name", "name": None, "category_id": _category_id()}])
    assert not Brand.objects.filter(slug="no-name").exists()


def test_staging_table_then_insert_on_conflict_keeps_what_was_there(postgres):
    """The exchange's ingestion pattern, as documented in the module docstring."""
    Recommendation.objects.create(brand_id=1, partner_id=2, rank=1, score=0.1, reasons_zh=["old"])
    table = Recommendation._meta.db_table
    # A table name gets no model defaults: the staging rows carry every column.
    columns = (*REC_COLUMNS, "model_version", "scale_fit", "positioning_fit", "audience_fit", "category_fit")
    cols = ", ".join(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA")
        rows = [[*_recommendation(1, p), 0, 0.5, 0.5, 0.5, 0.5] for p in (2, 3)]  # (1, 2) is already stored
        assert bulk.copy_rows("stage", columns, rows) == 2
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM stage ON CONFLICT DO NOTHING")
        assert cursor.rowcount == 1
    assert Recommendation.objects.get(partner_id=2).reasons_zh == ["old"]
    assert Recommendation.objects.get(partner_id=3).reasons_zh == ["规模相当"]


def test_insert_new_returns_only_the_rows_it_inserted(conn):
    """``insert_new``: rows colliding on the unique columns are skipped, and what comes back
    tells the caller which rows were new (on PostgreSQL through COPY and a staging table)."""
    columns = (*REC_COLUMNS, "model_version", "scale_fit", "positioning_fit", "audience_fit", "category_fit")

    def rows(*partners):
        return [[*_recommendation(1, p), 0, 0.5, 0.5, 0.5, 0.5] for p in partners]

    def insert(*partners):
        with transaction.atomic(using=conn.alias):
            return bulk.insert_new(
                Recommendation,
                columns,
                rows(*partners),
                conflict=("brand", "partner"),
                returning=("partner",),
                connection=conn,
            )

    assert sorted(insert(2, 3)) == [(2,), (3,)]
    assert sorted(insert(3, 4, 5)) == [(4,), (5,)]  # 3 was there: skipped, not returned
    assert insert(2, 3, 4, 5) == []  # twice in one transaction too: the staging table is dropped each time
    assert insert() == []
    stored = Recommendation.objects.using(conn.alias).values_list("partner_id", flat=True)
    assert sorted(stored) == [2, 3, 4, 5]


# --- the encoder and the loops --------------------------------------------------------------------
def test_copy_text_encodes_each_kind_of_value():
    columns = [
        [1, 2],
        [0.5, float("nan")],
        ["a\tb\\c", "line\nbreak\r"],
        [None, "x"],
        [True, False],
        [NOW, NOW],
        [datetime.date(2025, 1, 2), None],
        [{"k": "值"}, [1, "二"]],
        [Decimal("1.50"), BrandStatus.PENDING],
        [None, 0.25],
        [BrandStatus.APPROVED, "x\ty"],  # text with a str enum
        [3, None],
    ]
    assert bulk.copy_text(columns).split("\n") == [
        '1\t0.5\ta\\tb\\\\c\t\\N\tt\t2025-03-01T08:30:15.123456+00:00\t2025-01-02\t{"k": "值"}\t1.50\t\\N\tapproved\t3',
        '2\tnan\tline\\nbreak\\r\tx\tf\t2025-03-01T08:30:15.123456+00:00\t\\N\t[1, "二"]\tpending\t0.25\tx\\ty\t\\N',
        "",
    ]
    assert bulk.copy_text([[], []]) == ""


def test_progress_ticker_reports_each_time_the_count_passes_another_step():
    messages: list[str] = []
    ticker = bulk.ProgressTicker(messages.append, "rows", every=10)
    for count in (3, 10, 12, 35, 39):
        ticker.tick(count, 40)
    assert [m.split(" (")[0] for m in messages] == ["rows: 10/40", "rows: 35/40"]
    bulk.ProgressTicker(None, "silent").tick(10**6)  # no callable: nothing to report


def test_batches_splits_any_iterable():
    assert list(bulk.batches(iter(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    assert list(bulk.batches([], 3)) == []


def test_rows_written_in_a_transaction_that_fails_are_gone(conn):
    with pytest.raises(RuntimeError), transaction.atomic(using=conn.alias):
        bulk.copy_rows(Recommendation, REC_COLUMNS, [_recommendation(1, 2)], connection=conn)
        raise RuntimeError("after the write")
    assert not Recommendation.objects.using(conn.alias).exists()
