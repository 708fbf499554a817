"""What a known shopper did since training (the request-time history) adds to what the model
learned about them instead of replacing it: every engine combines the two the same way."""

from __future__ import annotations

import pytest
from engine_fixtures import group_of_item, two_groups

from recommendations.algorithms import get_engine


@pytest.mark.parametrize("engine", ["item_cf", "user_cf", "content", "deep"])
def test_fresh_views_add_to_a_known_shoppers_list_without_replacing_it(engine):
    data = two_groups(features=True)
    model = get_engine(engine).fit(data)
    user = 0  # a group-0 shopper with 10 of the 20 group-0 items
    fresh = {25: 1.0, 27: 1.0}  # two views of group-1 items since training
    after, _ = model.recommend(user, history=fresh, n=14)
    groups = [group_of_item(int(i)) for i in after]
    assert groups[:10] == [0] * 10, groups  # what the model learned still leads ...
    assert groups[10:] == [1] * 4, groups  # ... and the new interest follows, not the void
    assert not {25, 27} & {int(i) for i in after}  # what they just viewed is not re-recommended
