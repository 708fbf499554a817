"""A shop without a Celery app of its own (issue 15, item 6): Celery's built-in default app would
accept a training task and send it to ``amqp://localhost``, which nobody configured, and the
version would stay "queued" for ever. The command, the admin and the API refuse instead, name the
two ways out, and store nothing."""

from __future__ import annotations

import pytest
from celery import Celery, current_app
from django.core.management import CommandError, call_command

from recommendations.models import ModelVersion
from tests.conftest import shopper_client

pytestmark = pytest.mark.django_db

RETRAIN = "/admin/recommendations/modelversion/retrain/"
API_RETRAIN = "/api/recommendations/models/retrain/"


@pytest.fixture
def no_celery_app(monkeypatch):
    """Celery's fallback, as in a project that never created a Celery app nor set a broker."""
    project_app = current_app._get_current_object()
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    Celery("a-shop-without-celery", set_as_current=True)
    yield
    project_app.set_current()


def names_both_ways_out(text: str) -> bool:
    return "recommendations_train --sync" in text and "CELERY_BROKER_URL" in text


def test_the_command_refuses_to_queue_and_stores_nothing(no_celery_app):
    with pytest.raises(CommandError) as refused:
        call_command("recommendations_train", "--engine", "popular")
    assert names_both_ways_out(str(refused.value))
    assert not ModelVersion.objects.exists()


def test_the_admin_retrain_says_why_and_stores_nothing(no_celery_app, admin_client):
    response = admin_client.post(RETRAIN, {"engine": "__all__"}, follow=True)
    assert response.status_code == 200
    assert names_both_ways_out(response.content.decode())
    assert not ModelVersion.objects.exists()


def test_the_api_retrain_answers_503_naming_both_ways_out(no_celery_app, admin_user):
    response = shopper_client(admin_user).post(API_RETRAIN, {"engine": "popular"},
                                                content_type="application/json")
    assert response.status_code == 503 and names_both_ways_out(response.json()["detail"])
    assert not ModelVersion.objects.exists()


def test_the_project_app_still_queues(taste_shop, isolated_serving):
    """The same command with the project's own (eager, in tests) Celery app trains."""
    taste_shop(products=8, users=10, picks=4, seed=1)
    call_command("recommendations_train", "--engine", "popular")
    assert ModelVersion.objects.get().status == ModelVersion.Status.SUCCEEDED
