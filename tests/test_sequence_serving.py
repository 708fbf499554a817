"""The ``sequence`` engine end to end: trained by ``training.run_sync`` in one process (which
imports TensorFlow), served in another, a web process, that never does; an anonymous session's
views are read in the order they happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

ROOT = Path(__file__).resolve().parents[1]
SETUP = """
    import os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = {settings!r}
    import django
    django.setup()
"""
# Devices D0..D5 are always followed by their accessory A0..A5, never the other way round.
TRAIN = """
    import numpy as np
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from recommendations import training
    from recommendations.models import Event
    from tests.conftest import make_product
    devices = [make_product(f"D{i}", category="Devices") for i in range(6)]
    accessories = [make_product(f"A{i}", category="Accessories") for i in range(6)]
    fillers = [make_product(f"F{i}", category="Books") for i in range(4)]
    rng = np.random.default_rng(0)
    for u in range(120):
        user = get_user_model().objects.create_user(f"u{u}")
        for k in rng.choice(6, size=3, replace=False):
            for product in (devices[k], accessories[k], fillers[int(rng.integers(4))]):
                Event.objects.create(user=user, product=product, kind=Event.Kind.VIEW)
    assert training.missing_data("sequence") is None
    version = training.run_sync("sequence", force=True)
    print("TRAINED", version.status, "tensorflow" in sys.modules)
"""
SERVE = """
    from django.contrib.sessions.backends.db import SessionStore
    from recommendations import serving
    from recommendations.models import Event
    from recommendations.serving import Shopper, recommend_for
    from tests.conftest import make_product  # noqa
    from recommendations.conf import get_product_model
    product = {p.name if hasattr(p, "name") else str(p): p for p in get_product_model().objects.all()}
    out = {}
    for label, views in (("after D2", ["D2"]), ("after A2 then D4", ["A2", "D4"]), ("after D4 then A2", ["D4", "A2"])):
        session = SessionStore()
        session.create()
        for name in views:
            Event.objects.create(session_key=session.session_key, product=product[name], kind=Event.Kind.VIEW)
        recs = recommend_for(Shopper(session_key=session.session_key), 3, engine="sequence", use_cache=False)
        out[label] = [(r.engine, str(r.product_id)) for r in recs]
    names = {str(p.pk): n for n, p in product.items()}
    out = {k: [(e, names[pk]) for e, pk in v] for k, v in out.items()}
    out["tf"] = sorted(m for m in sys.modules if m == "tensorflow" or m.startswith(("tensorflow.", "keras")))
    print("SERVED", json.dumps(out))
"""


def run(code: str, env: dict[str, str]) -> str:
    settings = os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings")
    script = textwrap.dedent(SETUP.format(settings=settings)) + "import json\n" + textwrap.dedent(code)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_trained_by_run_sync_served_by_a_web_process_without_tensorflow(tmp_path):
    params = {"dim": 32, "blocks": 1, "max_len": 10, "epochs": 30, "patience": 30, "learning_rate": 5e-3,
              "dropout": 0.1, "max_seconds": 120, "seed": 3}
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/shop.sqlite3",
           "RECOMMENDATIONS_TEST_MEDIA_ROOT": str(tmp_path / "media"),
           "RECOMMENDATIONS_TEST_SETTINGS": json.dumps({"ENGINE_PARAMS": {"sequence": params},
                                                        "TUNING_SECONDS": 0})}
    env.pop("RECOMMENDATIONS_TEST_REDIS", None)
    assert "TRAINED succeeded True" in run(TRAIN, env)

    line = next(x for x in run(SERVE, env).splitlines() if x.startswith("SERVED "))
    served = json.loads(line[len("SERVED "):])
    assert served.pop("tf") == []
    for label, recs in served.items():
        assert recs and all(engine == "sequence" for engine, _ in recs), (label, recs)
    assert served["after D2"][0][1] == "A2"
    assert served["after A2 then D4"][0][1] == "A4"  # the latest view leads
    assert served["after D4 then A2"][0][1] != "A4"
