"""A training's fitting steps (recommendations.fitting), with no database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommendations.algorithms.dataset import Dataset
from recommendations.fitting import FITS_PER_TRAINING, fit_for_training, per_fit_params


def test_a_time_bounded_engine_shares_its_budget_between_the_trainings_two_fits():
    # deep's and sequence's documented default is 480 s for the whole training
    assert per_fit_params("deep", {})["max_seconds"] == 480 / FITS_PER_TRAINING
    assert per_fit_params("sequence", {"max_seconds": 100, "dim": 8}) == {"max_seconds": 50, "dim": 8}
    assert per_fit_params("deep", {"max_seconds": None}) == {"max_seconds": None}  # no budget: none
    assert per_fit_params("item_cf", {"l2": 5.0}) == {"l2": 5.0}  # no budget to share


@pytest.fixture
def dataset() -> Dataset:
    rng = np.random.default_rng(0)
    rows = [(u, int(i), "view") for u in range(60) for i in rng.choice(40, size=8, replace=False)]
    events = pd.DataFrame(rows, columns=["user_id", "product_id", "event"])
    events["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC")
    events["value"] = 1.0
    return Dataset.from_frames(events)


def test_fit_for_training_tunes_validates_and_fits_in_that_order(dataset):
    stages = []
    fitted = fit_for_training("item_cf", dataset, {}, tuning_seconds=30, validation_max_users=1000,
                              stage=lambda name, percent: stages.append(name))
    assert stages == ["tuning", "validating", "fitting"]
    assert fitted.tuning["parameter"] == "l2" and fitted.params["l2"] == fitted.tuning["chosen"]
    assert 0 <= fitted.metrics["ndcg@10"] <= 1 and fitted.fit_seconds > 0
    assert fitted.model.recommend(0, n=5)[0].size == 5


def test_a_parameter_the_version_sets_is_not_tuned(dataset):
    stages = []
    fitted = fit_for_training("item_cf", dataset, {"l2": 7.0}, tuning_seconds=30, validation_max_users=1000,
                              pinned={"l2": 7.0}, stage=lambda name, percent: stages.append(name))
    assert stages == ["validating", "fitting"] and fitted.tuning is None and fitted.params == {"l2": 7.0}
