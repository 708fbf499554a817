"""Where TensorFlow has no wheels (or the deep extra is not installed) everything else works and
the dashboard says why deep cannot train. The full run has TensorFlow; most cells of the support
matrix (noxfile.py) do not: each environment checks the side it is on, nothing is faked."""

from __future__ import annotations

from importlib.util import find_spec

import pytest
from django.contrib.messages import get_messages
from django.test import override_settings

from recommendations import training
from recommendations.models import ModelVersion
from tests.conftest import recs

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/recommendations/modelversion/dashboard/"
HAS_TENSORFLOW = find_spec("tensorflow") is not None


@override_settings(RECOMMENDATIONS=recs(ENGINES=["popular", "deep", "sequence"]))
def test_dashboard_says_why_deep_is_unavailable_exactly_when_tensorflow_is_missing(admin_client):
    response = admin_client.get(DASHBOARD)
    assert response.status_code == 200
    notes = [str(m) for m in get_messages(response.wsgi_request) if "TensorFlow" in str(m)]
    if HAS_TENSORFLOW:
        assert training.tensorflow_unavailable_reason() is None
        assert training.tensorflow_unavailable_reason("sequence") is None
        assert notes == []
        assert training.configured_engines() == ["popular", "deep", "sequence"]
    else:
        assert notes == [f"deep: {training.tensorflow_unavailable_reason()}",
                         f"sequence: {training.tensorflow_unavailable_reason('sequence')}"]
        assert "so the sequence engine cannot be trained" in notes[1]
        assert "TensorFlow is not installed" in response.content.decode()
        assert "django-shop-recommendations[deep]" in notes[0]
        assert training.configured_engines() == ["popular"]  # "Retrain all" leaves both out


@override_settings(RECOMMENDATIONS=recs(ENGINES=["popular"]))
def test_dashboard_is_silent_about_deep_when_it_is_not_configured(admin_client):
    response = admin_client.get(DASHBOARD)
    assert not [m for m in get_messages(response.wsgi_request) if "TensorFlow" in str(m)]


@pytest.mark.parametrize("engine", ["deep", "sequence"])
def test_a_worker_without_tensorflow_fails_a_deep_run_saying_why(taste_shop, engine):
    taste_shop(products=8, users=12, picks=4, seed=5, prefix="d")
    version = ModelVersion.objects.create(engine=engine, triggered_by="test")
    if HAS_TENSORFLOW:
        assert training.tensorflow_unavailable_reason(engine) is None
        return  # tests/algorithms/test_deep.py, test_sequence.py and tests/test_sequence_serving.py train here
    with pytest.raises(RuntimeError, match="TensorFlow is not installed"):
        training.train(version)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED
    assert version.error.startswith("RuntimeError: TensorFlow is not installed")
    assert f"so the {engine} engine cannot be trained" in version.error


def test_the_sequence_engine_waits_for_a_shopper_with_two_products():
    from django.contrib.auth import get_user_model

    from recommendations.models import Event
    from tests.conftest import make_product

    first, second = make_product("First"), make_product("Second")
    Event.objects.create(session_key="s1", product=first, kind=Event.Kind.VIEW)
    Event.objects.create(session_key="s2", product=second, kind=Event.Kind.VIEW)
    user = get_user_model().objects.create_user("one-product")
    Event.objects.create(user=user, product=first, kind=Event.Kind.VIEW)
    Event.objects.create(user=user, product=first, kind=Event.Kind.PURCHASE)
    assert "two different products" in training.missing_data("sequence")
    assert training.missing_data("item_cf") is None
    Event.objects.create(session_key="s1", product=second, kind=Event.Kind.VIEW)
    assert training.missing_data("sequence") is None
