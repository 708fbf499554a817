"""Live learning between trainings: what a known shopper did since their model was trained gets
``RECENT_ACTIVITY_SHARE`` of their next list, the rest still comes from what the model learned."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from recommendations.models import Event
from recommendations.products import info
from recommendations.serving import Recommendation, Shopper, _interleave, recommend_for
from tests.conftest import recs, train

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]


def garden_count(items) -> int:
    return sum(info(r.product).category == "Garden" for r in items)


@pytest.mark.parametrize(("share", "expected"), [(0.35, 3), (0.5, 4), (0.0, 0)])
def test_two_fresh_views_take_their_share_of_a_known_shoppers_list(taste_shop, share, expected):
    books, garden, users = taste_shop(products=15, users=60, picks=7, seed=1, then=Event.Kind.CART)
    train("item_cf", "trending")
    reader = users[1]  # a books shopper with 7 books viewed and carted
    with override_settings(RECOMMENDATIONS=recs(RECENT_ACTIVITY_SHARE=share)):
        assert garden_count(recommend_for(Shopper(user_id=reader.pk), 8, engine="item_cf", use_cache=False)) == 0
        Event.objects.bulk_create(Event(user=reader, product=p, kind=Event.Kind.VIEW) for p in garden[:2])
        after = recommend_for(Shopper(user_id=reader.pk), 8, engine="item_cf", use_cache=False)
    assert len(after) == 8 and garden_count(after) == expected
    assert after[0].reason.startswith("Because you")  # the list still leads with what it learned


def test_interleave_keeps_the_share_in_every_prefix_and_skips_duplicates():
    main = [Recommendation(i, 1.0, "e", "") for i in (1, 2, 3, 4, 5, 6)]
    extra = [Recommendation(i, 1.0, "e", "") for i in (2, 10, 11)]
    merged = [r.product_id for r in _interleave(main, extra, 0.35)]
    assert merged == [1, 2, 3, 4, 10, 5, 6, 11]  # slots 2, 5 and 8 from extra
    assert [r.product_id for r in _interleave(main, [], 0.35)] == [1, 2, 3, 4, 5, 6]
