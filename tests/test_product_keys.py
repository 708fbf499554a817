"""Artifacts store product keys as typed arrays, never pickled objects, and serving gets them back
as the product model's own key type: integer, big integer, UUID and string keys alike."""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest
from django.db import models

from recommendations.algorithms import get_engine
from recommendations.algorithms.dataset import Dataset
from recommendations.artifacts import load_bundle, save_bundle, typed_ids

KEYS = {
    "integer": ([3, 1, 2], models.AutoField(primary_key=True), "i"),
    "big integer": ([2**40 + 1, 2**40, 7], models.BigAutoField(primary_key=True), "i"),
    "uuid": ([uuid.uuid4(), uuid.uuid4(), uuid.uuid4()], models.UUIDField(primary_key=True), "U"),
    "string": (["SKU-b", "SKU-a", "sku-ä"], models.CharField(primary_key=True, max_length=20), "U"),
}


@pytest.mark.parametrize("kind", KEYS)
def test_keys_survive_an_artifact_without_pickle(kind):
    keys, field, dtype_kind = KEYS[kind]
    assert typed_ids(keys).dtype.kind == dtype_kind
    dataset = Dataset(user_ids=np.array(["u1", "u2"]), item_ids=np.asarray(keys, dtype=object),
                      user=[0, 0, 1], item=[0, 1, 2], kind=[1, 1, 1], value=[1, 1, 1], timestamp=[0, 1, 2])
    model = get_engine("popular").fit(dataset)
    buffer = io.BytesIO()
    save_bundle(model, dataset.user_ids, dataset.item_ids, buffer)
    buffer.seek(0)
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as raw:  # never an object array
        assert raw["item_ids"].dtype.kind == dtype_kind
    bundle = load_bundle(buffer)
    bundle.use_keys(field.to_python)
    assert bundle.item_keys == keys and all(type(k) is type(keys[0]) for k in bundle.item_keys)
    assert bundle.item_index[keys[2]] == 2
