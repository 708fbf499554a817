"""Property-based tests of the events importer (hypothesis): for any mix of good and bad rows,
every good row is stored exactly once, every bad row is reported by its line number, what was
stored before is kept, and running the same file again changes nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommendations.importers import SHOWN_ERRORS
from recommendations.models import Event, Rating
from tests.conftest import make_product

pytestmark = pytest.mark.django_db

BASE = 1_700_000_000
USERS = {"good": ["1", "2", "3", " 4 "], "bad": ["", "x", "1.5"]}
PRODUCTS = {"good": ["P1", "P2"], "bad": ["", "999999"]}  # P1/P2 stand for the two products' pks
KINDS = {"good": ["view", "cart", "purchase", "rating", " Purchase "], "bad": ["", "click"]}
STAMPS = {"good": ["unix", "iso"], "bad": ["", "yesterday"]}
QUANTITIES = {"good": ["", "1", "3"], "bad": ["0", "-1", "2.5", "many"]}
SCORES = {"good": ["1", "3", "5", "4.0"], "bad": ["", "0", "6", "4.5"]}


def field(choices: dict[str, list[str]]):
    return st.sampled_from([(True, v) for v in choices["good"]] + [(False, v) for v in choices["bad"]])


rows = st.lists(st.tuples(field(USERS), field(PRODUCTS), field(KINDS), field(STAMPS), field(QUANTITIES),
                          field(SCORES)), min_size=1, max_size=40)


def run_import(path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("recommendations_import", "--events", str(path), "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows)
def test_any_mix_of_rows_stores_the_good_ones_once_and_reports_the_bad_ones(tmp_path, rows):
    with transaction.atomic():
        products = {"P1": make_product("One"), "P2": make_product("Two")}
        earlier = Event.objects.create(user_id=None, session_key="kept", product=products["P1"],
                                       kind=Event.Kind.VIEW)
        lines, good_events, good_ratings, bad_lines = ["user_id,product_id,event,timestamp,value"], 0, {}, []
        for n, ((u_ok, user), (p_ok, product), (k_ok, kind), (t_ok, stamp), (q_ok, qty), (s_ok, score)) \
                in enumerate(rows):
            line = n + 2
            moment = BASE + n * 60  # one minute apart: no two rows are the same event
            stamp = {"unix": str(moment), "iso": datetime.fromtimestamp(moment, UTC).isoformat()}.get(stamp, stamp)
            product = str(products[product].pk) if product in products else product
            is_rating = kind.strip().lower() == "rating"
            value = score if is_rating else qty
            ok = u_ok and p_ok and k_ok and t_ok and (s_ok if is_rating else q_ok)
            lines.append(f'"{user}",{product},{kind},{stamp},{value}')
            if not ok:
                bad_lines.append(line)
            elif is_rating:
                good_ratings[(int(user), product)] = int(float(score))  # the last one wins
            else:
                good_events += 1
        path = tmp_path / "events.csv"
        path.write_text("\n".join(lines) + "\n")

        out, err = run_import(path)
        assert f"bad rows: {len(bad_lines)}" in out or not bad_lines, out
        reported = [int(line.split(" line ")[1].split(":")[0]) for line in err.splitlines() if " line " in line]
        # Each bad line once (unknown products are found per batch, so not always in file order).
        assert len(set(reported)) == len(reported) == min(len(bad_lines), SHOWN_ERRORS), err
        assert set(reported) <= set(bad_lines), err
        assert Event.objects.exclude(pk=earlier.pk).count() == good_events
        assert {(r.user_id, str(r.product_id)): r.score for r in Rating.objects.all()} == good_ratings
        assert Event.objects.filter(pk=earlier.pk).exists()  # nothing stored before was lost

        run_import(path)  # the same file again: nothing new
        assert Event.objects.exclude(pk=earlier.pk).count() == good_events
        assert Rating.objects.count() == len(good_ratings)
        transaction.set_rollback(True)
