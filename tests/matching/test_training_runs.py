"""Training runs record what they are doing as a code (``TrainingMessage``) and its params;
every surface renders the text in its reader's language."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from matching import services
from matching.errors import MatchingError
from matching.models import TrainingMessage, TrainingRun, TrainingState

pytestmark = pytest.mark.django_db


def test_a_failed_run_stores_the_error_code_and_params_and_renders_them_per_language(
    admin_actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery runs the task inline
        run = services.training_run_start(actor=admin_actor)
    run.refresh_from_db()
    assert run.state == TrainingState.FAILED
    assert (run.message_code, run.message_params, run.message) == (
        TrainingMessage.NOT_ENOUGH_OUTCOMES,
        {"min": 20, "n": 0},
        "",
    )
    with translation.override("en"):
        assert run.message_text() == ("Training needs at least 20 outcomes with both successes and failures (have 0).")
    with translation.override("zh-hans"):
        assert "20" in run.message_text() and "Training" not in run.message_text()


def test_an_internal_error_is_a_code_with_the_exception_class_kept_for_operators(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "matcher_train", broken)
    run = TrainingRun.objects.create()
    with pytest.raises(RuntimeError):
        services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.message_code, run.message) == (
        TrainingState.FAILED,
        TrainingMessage.INTERNAL_ERROR,
        "RuntimeError",
    )
    with translation.override("en"):
        assert run.message_text() == "Internal error; see the worker log."


# Messages added on a branch whose zh-Hans entries are written after the merge (locale/ is
# edited in one place); the strict xfail below goes once they are translated.
AWAITING_TRANSLATION = {TrainingMessage.BELOW_HEURISTIC}


def test_every_training_message_has_a_chinese_label():
    for message in set(TrainingMessage) - AWAITING_TRANSLATION:
        with translation.override("en"):
            en = str(message.label)
        with translation.override("zh-hans"):
            zh = str(message.label)
        assert zh != en, message


@pytest.mark.xfail(strict=True, reason="zh-Hans labels added after the merge")
def test_new_training_messages_have_a_chinese_label():
    for message in AWAITING_TRANSLATION:
        with translation.override("en"):
            en = str(message.label)
        with translation.override("zh-hans"):
            assert str(message.label) != en, message


def test_a_run_without_a_code_shows_its_free_text():
    assert TrainingRun(message="something the worker said").message_text() == "something the worker said"
    assert TrainingRun(message_code="retired_code", message="kept").message_text() == "kept"


def test_runs_stored_as_english_phrases_are_migrated_to_codes():
    migration = importlib.import_module("matching.migrations.0004_trainingrun_message_code")
    running = TrainingRun.objects.create(message="evaluating on the hold-out")
    kept = TrainingRun.objects.create(message="kept the active model (new one scored lower)")
    broken = TrainingRun.objects.create(message="internal error: KeyError")
    other = TrainingRun.objects.create(message="需要至少 20 条结果")
    migration.phrases_to_codes(apps, None)
    for run in (running, kept, broken, other):
        run.refresh_from_db()
    assert (running.message_code, running.message) == (TrainingMessage.EVALUATING, "")
    assert kept.message_code == TrainingMessage.KEPT_ACTIVE
    assert (broken.message_code, broken.message) == (TrainingMessage.INTERNAL_ERROR, "KeyError")
    assert (other.message_code, other.message) == ("", "需要至少 20 条结果")


# --- one run at a time -----------------------------------------------------------------------------
def test_no_new_run_while_one_is_in_progress(admin_actor, django_capture_on_commit_callbacks):
    TrainingRun.objects.create(state=TrainingState.SUCCEEDED)  # finished runs never block
    TrainingRun.objects.create(state=TrainingState.FAILED)
    with django_capture_on_commit_callbacks(execute=False):
        first = services.training_run_start(actor=admin_actor)
    with pytest.raises(ValidationError) as exc:
        services.training_run_start(actor=admin_actor, force=True)
    assert [e.code for e in exc.value.error_dict["__all__"]] == [MatchingError.TRAINING_IN_PROGRESS]
    assert TrainingRun.objects.count() == 3

    # A run unfinished for 30 minutes probably lost its worker: it no longer blocks.
    TrainingRun.objects.filter(pk=first.pk).update(
        state=TrainingState.RUNNING, created_at=timezone.now() - timedelta(minutes=31)
    )
    with django_capture_on_commit_callbacks(execute=False):
        services.training_run_start(actor=admin_actor)
    assert TrainingRun.objects.count() == 4
