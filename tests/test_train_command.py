"""``recommendations_train`` trains what the shop's data allows (issue 15, item 4): an engine
that cannot learn from this data (``rating`` without star ratings) is skipped with a warning and
the exit status stays 0; it is non-zero only when something that could have trained failed."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from recommendations import tasks
from recommendations.models import ModelVersion, Rating
from tests.conftest import recs

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(taste_shop, isolated_serving):
    with override_settings(RECOMMENDATIONS=recs(ENGINES=["popular", "rating"])):
        yield taste_shop(products=8, users=10, picks=4, seed=1)


def train(*args: str) -> str:
    err = io.StringIO()
    call_command("recommendations_train", *args, stderr=err, stdout=io.StringIO())
    return err.getvalue()


def test_without_star_ratings_the_rating_engine_is_skipped_and_the_command_succeeds(shop):
    warnings = train("--sync")
    assert "rating: skipped: there are no star ratings yet" in warnings
    assert list(ModelVersion.objects.values_list("engine", "is_active")) == [("popular", True)]


def test_asked_for_by_name_it_is_skipped_the_same_way(shop):
    assert "rating: skipped" in train("--sync", "--engine", "rating")
    assert not ModelVersion.objects.exists()


def test_retrain_all_queues_only_what_can_train(shop):
    tasks.train_all.apply()
    assert list(ModelVersion.objects.values_list("engine", flat=True)) == ["popular"]


def test_with_star_ratings_it_trains(shop):
    books, garden, users = shop
    for user, product, score in [(u, p, 1 + (i + j) % 5) for i, u in enumerate(users)
                                 for j, p in enumerate(books[:4] + garden[:4])]:
        Rating.objects.create(user=user, product=product, score=score)
    assert "skipped" not in train("--sync")
    assert ModelVersion.objects.get(engine="rating").status == ModelVersion.Status.SUCCEEDED


def test_an_engine_that_could_train_and_failed_still_fails_the_command(db, isolated_serving):
    with override_settings(RECOMMENDATIONS=recs(ENGINES=["popular"])), pytest.raises(CommandError):
        train("--sync")  # no events at all: popular fails
