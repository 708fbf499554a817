"""The app speaks the active language: its catalogue is installed with it (in the wheel suite,
from the built wheel), English stays the default, and texts stored in English (reasons,
segments, stages) are translated where they are shown."""

from __future__ import annotations

from pathlib import Path

from django.utils import translation

import recommendations


def test_the_installed_package_carries_its_compiled_catalogue():
    folder = Path(recommendations.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
    assert (folder / "django.mo").is_file() and (folder / "django.po").is_file()


def test_strings_read_through_gettext_follow_the_active_language():
    from recommendations import presentation, profiles
    from recommendations.dashboard import duration, stage_label
    from recommendations.templatetags.recommendations import TITLES

    assert str(TITLES["for_you"]) == "Recommended for you"
    assert presentation.reason_text("Because you viewed Garden Hose") == "Because you viewed Garden Hose"
    with translation.override("zh-hans"):
        assert str(TITLES["for_you"]) == "为您推荐"
        assert presentation.reason_text("Because you viewed Garden Hose") == "因为您浏览过 Garden Hose"
        assert presentation.reason_text("Because you added a product") == "因为您将 某件商品 加入了购物车"
        assert presentation.reason_text("Trending now") == "当前热门"
        assert presentation.reason_text("A shop's own reason") == "A shop's own reason"  # as written
        assert (profiles.segment_text("Loyal customer · Garden fan · bargain hunter")
                == "忠实顾客 · Garden 爱好者 · 性价比之选")
        assert profiles.why_text("bought 2×, viewed 3×") == "购买 2 次，浏览 3 次"
        assert stage_label("fitting") == "拟合"
        assert duration(130) == "2 分 10 秒"


def test_numbers_are_rounded_as_before_and_written_in_the_locale_format():
    """number_format cuts a float's extra digits: the dashboard rounds first, as "{:.4f}" did."""
    from recommendations.attribution import percent
    from recommendations.charts import _fmt
    from recommendations.dashboard import _metric_rows

    assert _metric_rows({"ndcg@10": 0.12349}) == [("ndcg@10", f"{0.12349:.4f}")] == [("ndcg@10", "0.1235")]
    assert (_fmt(0.99951), percent(0.12345), percent(0.5)) == ("1.000", "12.3%", "50.0%")
    with translation.override("de"):  # a locale with a decimal comma
        assert _metric_rows({"ndcg@10": 0.12349}) == [("ndcg@10", "0,1235")]
