"""Cold start for sessions: an anonymous shopper's first views drive the very next list.

At default settings (``SERVING_ENGINE`` hybrid, lists cached per shopper), over HTTP: the
capture endpoint records a view, and the next "for you" request answers from it.
"""

from __future__ import annotations

import pytest

from recommendations.models import Event
from tests.conftest import shopper_client, train

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
API = "/api/recommendations/"


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=12, users=40, picks=6, seed=3, then=Event.Kind.CART, prefix="s")


def categories(body) -> list[str]:
    return [item["category"] for item in body["results"]]


def test_one_to_three_views_drive_the_next_request(shop):
    books, garden, users = shop
    train("hybrid", "item_cf", "trending", "popular")
    for views in (1, 2, 3):
        for liked, other in ((garden, "Books"), (books, "Garden")):
            visitor = shopper_client()
            before = visitor.get(API + "for-you/?limit=6").json()  # nothing known yet, and cached
            for product in liked[:views]:
                response = visitor.post(API + "events/", {"product": product.pk, "event": "view"},
                                        content_type="application/json")
                assert response.status_code == 201
            after = visitor.get(API + "for-you/?limit=6").json()
            ids = [i["id"] for i in after["results"]]
            assert ids != [i["id"] for i in before["results"]]  # the cached list did not answer
            got = categories(after)
            assert other not in got[:3] and got.count(other) <= 1, (views, got)
            assert not {p.pk for p in liked[:views]} & set(ids)  # what they just viewed is not offered
            assert after["engine"] == "hybrid" and all(i["reason"] for i in after["results"][:3])
