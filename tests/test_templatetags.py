"""``{% load recommendations %}``: every widget, with and without trained models, for anonymous
and signed-in shoppers; escaping, impressions, click links, and no error ever reaching a page."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings

from recommendations import presentation, serving, training
from recommendations.capture import ANONYMOUS_KEY_SESSION_ENTRY
from recommendations.conf import get_product_model
from recommendations.models import Click, Event, Impression
from tests.conftest import recs, train

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]




@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=10, users=30, picks=5, seed=5, then=Event.Kind.PURCHASE, prefix="t")


@pytest.fixture
def linked(monkeypatch):
    """Give the product model a page (the app's default model and the host shop's have none)."""
    monkeypatch.setattr(get_product_model(), "get_absolute_url", lambda self: f"/products/{self.pk}/",
                        raising=False)


def request_for(user=None, session_key: str | None = None):
    request = RequestFactory().get("/", HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0")
    request.user = user or AnonymousUser()
    request.session = SessionStore(session_key)
    if session_key:
        request.session[ANONYMOUS_KEY_SESSION_ENTRY] = session_key
    return request


def render(source: str, **context) -> str:
    return Template("{% load recommendations %}" + source).render(Context(context))


def names(html: str, products) -> list[str]:
    return [p for p in (str(x) for x in products) if f">{p}<" in html]


ALL_TAGS = ["{% recommended_for_you %}", "{% similar_products product %}", "{% also_bought product %}",
            "{% trending_products %}", "{% recently_viewed %}"]


def test_every_widget_renders_with_no_model_trained(shop):
    books, garden, users = shop
    assert not serving.active_models.signature()
    for tag in ALL_TAGS:  # each on a page of its own
        html = render(tag, request=request_for(users[1]), product=books[0])
        assert 'class="recommendations ' in html, tag
        assert "data-recommendation-id=" in html
    widgets = set(Impression.objects.values_list("widget", flat=True))
    assert widgets == set(presentation.WIDGETS)
    assert set(Impression.objects.values_list("user_id", flat=True)) == {users[1].pk}


def test_anonymous_visitor_without_a_session_gets_trending_and_no_personal_widget(shop):
    """Nothing personal to say yet: "Recommended for you" is not rendered (it would be the
    trending list under a personal title); trending is, and its impression has no shopper."""
    books, garden, users = shop
    request = request_for()
    html = render("{% recommended_for_you limit=3 %}{% trending_products limit=3 %}{% recently_viewed %}",
                  request=request)
    assert "recommendations-for_you" not in html and "Trending now" not in html.split("<section")[0]
    assert html.count('class="recommendations-item card"') == 3
    assert "recommendations-recently_viewed" not in html  # nothing viewed: nothing rendered
    impression = Impression.objects.get()
    assert impression.widget == "trending" and impression.user_id is None and impression.session_key == ""


def ids_in(html: str, widget: str) -> list[str]:
    start = html.index(f'data-widget="{widget}"')
    return re.findall(r'<li class="recommendations-item card" data-product-id="([^"]+)"',
                      html[start:html.index("</section>", start)])


def test_anonymous_for_you_follows_the_session_and_is_not_the_trending_list(shop):
    """After a few views in one category, an anonymous visitor's "for you" is about that
    category, says so in a sentence naming it, and shares no product with "Trending now"."""
    books, garden, users = shop
    training.run_sync("popular", force=True)
    training.run_sync("trending", force=True)
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0")
    client.get("/")  # a session
    session_key = "anon-garden"
    for product in garden[:3]:
        Event.objects.create(session_key=session_key, product=product, kind=Event.Kind.VIEW)
    request = request_for(session_key=session_key)
    html = render("{% recommended_for_you limit=4 %}{% trending_products limit=4 %}", request=request)
    for_you, trending = ids_in(html, "for_you"), ids_in(html, "trending")
    assert for_you and trending and not set(for_you) & set(trending)
    assert "Trending now:" not in html.split('data-widget="trending"')[0]
    assert "Popular in Garden, which you looked at" in html


def test_tags_work_without_a_request_in_the_context(shop):
    books, garden, users = shop
    html = render("{% trending_products limit=2 %}{% similar_products product limit=2 %}", product=books[0])
    assert html.count('class="recommendations-item card"') == 4


def test_anonymous_session_history_drives_recently_viewed_and_for_you(shop):
    books, garden, users = shop
    training.run_sync("item_cf", force=True)
    Event.objects.bulk_create(Event(session_key="visitor-1", product=p, kind=Event.Kind.VIEW) for p in garden[:3])
    request = request_for(session_key="visitor-1")
    viewed = render("{% recently_viewed limit=5 %}", request=request)
    assert len(names(viewed, garden[:3])) == 3 and "You viewed this" in viewed
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf")):
        html = render("{% recommended_for_you limit=4 %}", request=request)
    assert len(names(html, garden[3:])) == 4 and not names(html, books)
    assert "Because you viewed Tool " in html
    assert Impression.objects.filter(session_key="visitor-1", widget="for_you", engine="item_cf").exists()


def test_limit_and_title(shop):
    books, garden, users = shop
    html = render('{% trending_products limit=3 title="Hot this week" %}', request=request_for())
    assert html.count('class="recommendations-item card"') == 3 and "Hot this week" in html
    html = render("{% also_bought product limit=2 %}", request=request_for(), product=books[0])
    assert html.count('class="recommendations-item card"') == 2 and "Customers also bought" in html
    assert render("{% similar_products missing %}", request=request_for()) == ""


def test_widget_shows_name_price_reason_and_links_through_the_click_redirect(shop, linked):
    books, garden, users = shop
    training.run_sync("item_cf", force=True)
    # the app's own card (a shop's card, such as the demo's CARD_TEMPLATE, marks up what it likes)
    with override_settings(RECOMMENDATIONS=recs(CARD_TEMPLATE="recommendations/widgets/_card.html")):
        html = render("{% similar_products product limit=3 %}", request=request_for(users[1]), product=books[0])
    impression = Impression.objects.get(widget="similar")
    item = impression.product_ids[0]
    assert f'href="/api/recommendations/r/{impression.pk}/{item}/"' in html
    assert f'data-recommendation-id="{impression.pk}"' in html and f'data-product-id="{item}"' in html
    assert f'data-product-url="/products/{item}/"' in html
    assert "9.99" in html and "Similar to Book 0" in html
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0")
    client.force_login(users[1])
    response = client.get(f"/api/recommendations/r/{impression.pk}/{item}/")
    assert response.status_code == 302 and response["Location"] == f"/products/{item}/"
    assert Click.objects.filter(impression=impression, product_id=str(item)).exists()


def test_hostile_product_names_are_escaped(shop, product_factory, linked):
    books, garden, users = shop
    evil = product_factory('<script>alert("x")</script>', category="Books")
    Event.objects.bulk_create(Event(user=u, product=evil, kind=Event.Kind.PURCHASE) for u in users)
    viewer = users[0]
    Event.objects.create(user=viewer, product=evil, kind=Event.Kind.VIEW)
    html = render("{% trending_products %}{% recently_viewed %}", request=request_for(viewer))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    training.run_sync("item_cf", force=True)
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf")):
        html = render("{% recommended_for_you %}", request=request_for(viewer))
    assert "<script>" not in html and "Because you viewed &lt;script&gt;" in html


def test_an_unexpected_error_renders_nothing_and_is_logged(shop, monkeypatch, caplog):
    books, garden, users = shop

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(presentation, "compute", broken)
    with caplog.at_level(logging.ERROR, logger="recommendations.templatetags"):
        html = render("<p>page</p>" + "".join(ALL_TAGS), request=request_for(users[0]), product=books[0])
    assert html == "<p>page</p>"
    assert "database on fire" in caplog.text and "widget failed" in caplog.text


def test_bots_see_widgets_but_leave_no_impressions(shop):
    request = RequestFactory().get("/", HTTP_USER_AGENT="Mozilla/5.0 (compatible; bingbot/2.0)")
    request.user, request.session = AnonymousUser(), SessionStore()
    html = render("{% trending_products limit=2 %}", request=request)
    assert html.count('class="recommendations-item card"') == 2 and not Impression.objects.exists()


def test_impressions_can_be_switched_off(shop):
    with override_settings(RECOMMENDATIONS=recs(RECORD_IMPRESSIONS=False)):
        html = render("{% trending_products limit=2 %}", request=request_for())
    assert html.count('class="recommendations-item card"') == 2 and not Impression.objects.exists()
    assert "data-recommendation-id" not in html


def test_a_widget_can_cap_products_per_category(shop):
    books, garden, users = shop
    training.run_sync("item_cf", force=True)
    # a books shopper: uncapped, every book they have not bought (one page each)
    uncapped = render("{% recommended_for_you limit=6 %}", request=request_for(users[1]))
    capped = render("{% recommended_for_you limit=6 max_per_category=2 %}", request=request_for(users[1]))
    assert len(names(uncapped, books)) == 5
    assert len(names(capped, books)) == 2 and len(names(capped, garden)) == 2  # two categories, two each


def test_as_form_hands_the_shop_its_own_product_instances(shop, linked):
    """``{% tag ... as recs %}``: the list for the shop's own card, each item with the product
    instance (fetched in bulk); ``{{ recs }}`` alone still renders the widget template."""
    books, garden, users = shop
    training.run_sync("item_cf", force=True)
    request = request_for(users[1])
    model = get_product_model()
    html = render("{% recommended_for_you limit=3 as recs %}"
                  "{% for item in recs %}<card>{{ item.product.pk }}|{{ item.name }}|{{ item.category }}"
                  "|{{ item.click_url }}</card>{% endfor %}<id>{{ recs.recommendation_id }}</id>"
                  "<title>{{ recs.title }}</title>", request=request)
    cards = [card.split("|") for card in html.split("<card>")[1:]]
    assert len(cards) == 3
    products = {str(p.pk): p for p in model.objects.all()}
    for pk, name, category, click in cards:
        assert pk in products and name == str(products[pk]) and category in ("Books", "Garden")
        assert click.startswith("/api/recommendations/r/")
    impression = Impression.objects.get()
    assert f"<id>{impression.pk}</id>" in html and "<title>Recommended for you</title>" in html

    context = Context({"request": request, "product": books[0]})
    Template("{% load recommendations %}{% similar_products product limit=4 as similar %}").render(context)
    assert all(isinstance(item["product"], model) for item in context["similar"]) and len(context["similar"]) == 4
    rendered = render("{% trending_products limit=2 as hot %}{{ hot }}", request=request)
    assert rendered.count('class="recommendations-item card"') == 2
    assert render("{% autoescape off %}{% trending_products limit=2 %}{% endautoescape %}",
                  request=request).count('class="recommendations-item card"') == 2


def test_no_product_repeats_across_the_widgets_of_a_page(shop):
    """Every widget of one page (one request), the page's own product and the shop's own grid
    marked with ``not_on_page``: each product at most once, the later widget getting its
    next-best items rather than fewer."""
    books, garden, users = shop
    train("popular", "trending", "item_cf", "content", "hybrid")
    Event.objects.create(user=users[1], product=garden[0], kind=Event.Kind.VIEW)
    request = request_for(users[1])
    html = render("{% recommended_for_you limit=4 %}{% similar_products product limit=4 %}"
                  "{% also_bought product limit=4 %}{% trending_products limit=4 %}{% recently_viewed limit=4 %}"
                  "{% not_on_page everything limit=4 as grid %}"
                  "{% for p in grid %}<i data-grid=\"{{ p.pk }}\"></i>{% endfor %}",
                  request=request, product=books[0], everything=books + garden)
    shown = re.findall(r'<li class="recommendations-item card" data-product-id="([^"]+)"', html)
    shown += re.findall(r'data-grid="([^"]+)"', html)
    assert len(shown) >= 16 and len(shown) == len(set(shown)), shown
    assert str(books[0].pk) not in shown
    for widget in ("for_you", "similar", "trending"):
        assert len(ids_in(html, widget)) == 4, widget  # next-best items, not a shorter list


def test_a_reason_names_the_shoppers_own_product_in_the_same_category(shop):
    """"Because you bought X" only where X shares a category with the product it explains:
    a garden tool is never recommended "because you bought" a book."""
    books, garden, users = shop
    train("item_cf", "hybrid")
    shopper = users[1]  # a books shopper, who now also looked at one garden tool
    Event.objects.create(user=shopper, product=garden[0], kind=Event.Kind.VIEW)
    recs = serving.recommend_for(serving.Shopper(user_id=shopper.pk), 12, use_cache=False)
    category = {p.pk: "Books" for p in books} | {p.pk: "Garden" for p in garden}
    named = {str(p): category[p.pk] for p in books + garden}
    reasons = [(rec, rec.reason) for rec in recs if rec.reason.startswith("Because you")]
    assert reasons
    for rec, reason in reasons:
        own = reason.split(" ", 3)[3]
        assert named[own] == category[rec.product_id], (reason, rec.product_id)
