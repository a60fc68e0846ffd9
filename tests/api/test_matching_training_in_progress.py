"""retrainMatcher refuses a second run while one is in progress, with the service's code and
message (the web page shows the same)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from matching.models import TrainingRun, TrainingState

pytestmark = pytest.mark.django_db

RETRAIN = """mutation($force: Boolean) {
  retrainMatcher(force: $force) { trainingRun { id state } errors { field code message } }
}"""


def test_retrain_while_a_run_is_in_progress_is_refused(as_admin, admin_user, django_capture_on_commit_callbacks):
    TrainingRun.objects.create(requested_by=admin_user, state=TrainingState.QUEUED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = as_admin(RETRAIN, {"force": True})["retrainMatcher"]
    assert payload["trainingRun"] is None
    with translation.override("zh-hans"):  # the API's default language
        message = _("A training run is already in progress; wait until it finishes.")
    assert payload["errors"] == [{"field": None, "code": "training_in_progress", "message": message}]
    assert TrainingRun.objects.count() == 1 and callbacks == []


def test_a_stale_run_does_not_block_retraining(as_admin, admin_user, django_capture_on_commit_callbacks):
    TrainingRun.objects.create(
        requested_by=admin_user, state=TrainingState.RUNNING, created_at=timezone.now() - timedelta(minutes=31)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = as_admin(RETRAIN, {"force": False})["retrainMatcher"]
    assert payload["errors"] == [] and payload["trainingRun"]["state"] == "queued"
    assert TrainingRun.objects.count() == 2 and len(callbacks) == 1
