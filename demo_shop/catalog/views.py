"""The demo shop's pages. Capture uses only the recommendations app's public API: the view
mixin on the product page, the signals in the cart and checkout, and its Rating model."""

from __future__ import annotations

import difflib
import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Avg, Count, F, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST
from django.views.generic import DetailView

from recommendations import privacy, profiles
from recommendations.capture import anonymous_session_key
from recommendations.models import Rating
from recommendations.serving import Shopper
from recommendations.signals import product_added_to_cart, product_purchased
from recommendations.tracking import TrackProductViewMixin

from .forms import CartLineForm, CheckoutForm, QuantityForm, RatingForm
from .images import product_svg
from .models import Category, Order, OrderLine, Product

CART_SESSION_KEY = "cart"
PAGE_SIZE = 24
ORDERS_PAGE_SIZE = 10
MAX_QUANTITY = 99
SORTS = {  # ?sort= value -> (label, ordering); the first is the default
    "popularity": (gettext_lazy("Best selling"), ("-sales_count", "pk")),
    "rating": (gettext_lazy("Customer rating"), (F("rating_avg").desc(nulls_last=True), "-rating_count", "pk")),
    "price": (gettext_lazy("Price: low to high"), ("unit_price", "pk")),
    "-price": (gettext_lazy("Price: high to low"), ("-unit_price", "pk")),
    "name": (pgettext_lazy("sort order", "Name"), ("title", "pk")),
}
DEFAULT_SORT = next(iter(SORTS))
PRICE_BANDS = {  # ?price= value -> (label, low, high): high excluded, None open
    "0-10": (gettext_lazy("Under $10"), None, 10), "10-25": (gettext_lazy("$10 to $25"), 10, 25),
    "25-50": (gettext_lazy("$25 to $50"), 25, 50), "50-100": (gettext_lazy("$50 to $100"), 50, 100),
    "100-250": (gettext_lazy("$100 to $250"), 100, 250), "250-": (gettext_lazy("$250 and over"), 250, None),
}
SUGGESTIONS = 8


def with_ratings(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.select_related("category").annotate(
        rating_avg=Avg("ratings__score"), rating_count=Count("ratings"))


def _price_range(band: str) -> Q:
    _label, low, high = PRICE_BANDS[band]
    return Q(unit_price__gte=low) if high is None else Q(unit_price__lt=high) & (
        Q(unit_price__gte=low) if low is not None else Q())


def _filtered(request: HttpRequest, products: QuerySet[Product]) -> tuple[QuerySet[Product], dict]:
    """Brand and price filters (unknown values are ignored), with each option's count among
    the products the other filter leaves."""
    brand, price = request.GET.get("brand", ""), request.GET.get("price", "")
    price = price if price in PRICE_BANDS else ""
    priced = products.filter(_price_range(price)) if price else products
    brands = list(priced.exclude(brand="").values_list("brand").annotate(n=Count("pk")).order_by("brand"))
    brand = brand if brand in {name for name, _ in brands} else ""
    branded = products.filter(brand=brand) if brand else products
    counts = branded.aggregate(**{key: Count("pk", filter=_price_range(key)) for key in PRICE_BANDS})
    bands = [(key, label, counts[key]) for key, (label, *_) in PRICE_BANDS.items() if counts[key] or key == price]
    return branded.filter(_price_range(price)) if price else branded, {
        "brand": brand, "brands": brands, "price": price, "price_bands": bands}


def _listing(request: HttpRequest, products: QuerySet[Product], context: dict):
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    products, filters = _filtered(request, products)
    products = with_ratings(products).order_by(*SORTS[sort][1])
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/listing.html", {
        **context, **filters, "page": page, "sort": sort,
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
    })


def home(request: HttpRequest) -> HttpResponse:
    best_sellers = with_ratings(Product.objects.filter(in_stock=True)).order_by("-sales_count", "pk")[:30]
    categories = Category.objects.annotate(n_products=Count("products")).order_by("name")
    return render(request, "catalog/home.html", {"best_sellers": best_sellers, "category_tiles": categories})


def all_products(request: HttpRequest) -> HttpResponse:
    return _listing(request, Product.objects.all(), {"heading": _("All products"), "all_products": True})


def category(request: HttpRequest, slug: str) -> HttpResponse:
    cat = get_object_or_404(Category, slug=slug)
    return _listing(request, cat.products.all(), {"heading": cat.name, "category": cat})


def _matching(words: list[str], *, every: bool = True) -> Q:
    """Products with every (or any) of ``words`` in their name, description, brand or category."""
    match = Q()
    for word in words:
        found = (Q(title__icontains=word) | Q(summary__icontains=word) | Q(brand__icontains=word)
                 | Q(category__name__icontains=word))
        match = (match & found) if every else (match | found)
    return match


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    products = Product.objects.none()
    context = {"heading": _("Results for “%(query)s”") % {"query": query} if query else _("Search"),
               "query": query, "is_search": True}
    if query:
        products = Product.objects.filter(_matching(query.split()[:8]))
        if not products.exists():
            context.update(search_suggestions(query))
    return _listing(request, products, context)


def search_suggestions(query: str) -> dict:
    """For a search that found nothing: a corrected query when its words are near the
    catalogue's ("ketle" -> "kettle"), products matching it or any one of the words, and the
    best sellers."""
    words = [w.lower() for w in query.split()[:8]]
    vocabulary = catalogue_words()
    corrected = [(difflib.get_close_matches(w, vocabulary, n=1, cutoff=0.75) or [w])[0] for w in words]
    did_you_mean = " ".join(corrected) if corrected != words else ""
    near = Product.objects.none()
    if did_you_mean:
        near = Product.objects.filter(_matching(corrected))
    if not near.exists():
        near = Product.objects.filter(_matching(list(dict.fromkeys(words + corrected)), every=False))
    near = list(with_ratings(near.filter(in_stock=True)).order_by("-sales_count", "pk")[:SUGGESTIONS])
    popular = list(with_ratings(Product.objects.filter(in_stock=True).exclude(pk__in=[p.pk for p in near]))
                   .order_by("-sales_count", "pk")[:SUGGESTIONS])
    return {"did_you_mean": did_you_mean, "near_matches": near, "popular": popular}


def catalogue_words() -> list[str]:
    """The words of product names, brands and categories (cached for ten minutes, or until
    products are added or removed)."""
    state = Product.objects.aggregate(n=Count("pk"), last=Max("pk"))
    key = f"catalog:search-words:{state['n']}:{state['last']}"
    words = cache.get(key)
    if words is None:
        found = set()
        for row in Product.objects.values_list("title", "brand", "category__name").iterator(chunk_size=5000):
            found.update(w for w in re.findall(r"[^\W\d_][\w'&-]*", " ".join(row).lower()) if len(w) > 2)
        words = sorted(found)
        cache.set(key, words, 600)
    return words


class ProductDetailView(TrackProductViewMixin, DetailView):
    model = Product
    template_name = "catalog/product_detail.html"

    def get_queryset(self) -> QuerySet[Product]:
        return with_ratings(Product.objects.all())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        own = (Rating.objects.filter(user=user, product=self.object).values_list("score", flat=True).first()
               if user.is_authenticated else None)
        context.update(own_rating=own, rating_form=RatingForm(initial={"score": own}),
                       quantity_form=QuantityForm())
        return context


@cache_control(max_age=86400, public=True)
def product_image(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("category"), pk=pk)
    svg = product_svg(product.pk, product.title, product.category.name, product.brand)
    return HttpResponse(svg, content_type="image/svg+xml")


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        Rating.objects.update_or_create(user=request.user, product=product,
                                        defaults={"score": form.cleaned_data["score"]})
        messages.success(request, _("Thanks! You rated %(product)s %(score)s out of 5.") % {
            "product": product.title, "score": form.cleaned_data["score"]})
    else:
        messages.error(request, _("Choose a rating from 1 to 5 stars."))
    return redirect(product)


# -- cart and checkout ------------------------------------------------------------------------

def _cart(request: HttpRequest) -> dict[str, int]:
    return request.session.setdefault(CART_SESSION_KEY, {})


def cart_lines(request: HttpRequest) -> tuple[list[tuple[Product, int, Decimal]], Decimal]:
    items = _cart(request)
    products = Product.objects.select_related("category").in_bulk([int(pk) for pk in items])
    lines = [(products[int(pk)], qty, (products[int(pk)].unit_price or Decimal(0)) * qty)
             for pk, qty in items.items() if int(pk) in products]
    return lines, sum((subtotal for *_, subtotal in lines), Decimal(0))


@require_POST
def add_to_cart(request: HttpRequest, pk: int) -> HttpResponse:
    """Add to the cart, then back to the posted ``next`` page (a card's button: the shopper stays
    where they were) or to the cart; asked for JSON (the card's script), answers the cart's count
    and the message instead of a redirect."""
    product = get_object_or_404(Product, pk=pk)
    form = QuantityForm(request.POST)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not product.in_stock or not form.is_valid():
        error = (_("%(product)s is out of stock.") % {"product": product.title} if not product.in_stock
                 else _("Choose a quantity from 1 to %(max)d.") % {"max": MAX_QUANTITY})
        if wants_json:
            return JsonResponse({"error": error}, status=400)
        messages.error(request, error)
        return redirect(product)
    quantity = form.cleaned_data["quantity"]
    cart = _cart(request)
    cart[str(product.pk)] = min(MAX_QUANTITY, cart.get(str(product.pk), 0) + quantity)
    request.session.modified = True
    product_added_to_cart.send(sender=Product, request=request, product=product, quantity=quantity,
                               recommendation_id=request.POST.get("recommendation_id") or None)
    message = _("Added %(product)s to your cart.") % {"product": product.title}
    if wants_json:
        return JsonResponse({"message": message, "cart_count": sum(cart.values())})
    messages.success(request, message)
    return _back(request, "catalog:cart")


@require_POST
def update_cart(request: HttpRequest, pk: int) -> HttpResponse:
    cart = _cart(request)
    form = CartLineForm(request.POST)
    if str(pk) in cart and form.is_valid():
        if form.cleaned_data["quantity"]:
            cart[str(pk)] = form.cleaned_data["quantity"]
        else:
            del cart[str(pk)]
            removed = Product.objects.filter(pk=pk).first()
            messages.success(request, _("Removed %(product)s from your cart.") % {
                "product": removed or _("the product")})
        request.session.modified = True
    return redirect("catalog:cart")


def cart(request: HttpRequest) -> HttpResponse:
    lines, total = cart_lines(request)
    return render(request, "catalog/cart.html", {"lines": lines, "total": total})


@login_required
def checkout(request: HttpRequest) -> HttpResponse:
    lines, total = cart_lines(request)
    if not lines:
        messages.info(request, _("Your cart is empty."))
        return redirect("catalog:cart")
    form = CheckoutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            order = Order.objects.create(user=request.user, full_name=form.cleaned_data["full_name"],
                                         address=form.cleaned_data["address"],
                                         card_last4=form.cleaned_data["card_number"][-4:], total=total)
            OrderLine.objects.bulk_create([
                OrderLine(order=order, product=product, quantity=qty, unit_price=product.unit_price or 0)
                for product, qty, _subtotal in lines])
            for product, qty, _subtotal in lines:
                Product.objects.filter(pk=product.pk).update(sales_count=F("sales_count") + qty)
        for product, qty, _subtotal in lines:
            product_purchased.send(sender=Order, request=request, product=product, quantity=qty,
                                   price=product.unit_price)
        request.session[CART_SESSION_KEY] = {}
        messages.success(request, _("Thank you for your order! Payment of $%(total)s accepted (simulated).") % {
            "total": number_format(total, 2)})
        return redirect(order)
    return render(request, "catalog/checkout.html", {"form": form, "lines": lines, "total": total})


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    history = Order.objects.filter(user=request.user).prefetch_related("lines__product")
    page = Paginator(history, ORDERS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/orders.html", {"orders": page.object_list, "page": page})


@login_required
def order(request: HttpRequest, pk: int) -> HttpResponse:
    placed = get_object_or_404(Order.objects.prefetch_related("lines__product"), pk=pk, user=request.user)
    return render(request, "catalog/order.html", {"order": placed})


def signup(request: HttpRequest) -> HttpResponse:
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)  # keeps what they did while anonymous (the app merges it on login)
        messages.success(request, _("Welcome, %(name)s!") % {"name": user.username})
        return _back(request, "catalog:home")
    return render(request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")})


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Download or erase what the recommendations know about you (orders stay: they are the shop's)."""
    shopper = Shopper.from_request(request)
    if request.method == "POST":
        deleted = privacy.erase(shopper)
        messages.success(request, _("Erased %(events)d events and %(ratings)d ratings; recommendations "
                                    "start afresh.") % {"events": deleted["events"], "ratings": deleted["ratings"]})
        return redirect("catalog:my_data")
    data = privacy.export(shopper)
    return render(request, "catalog/my_data.html", {"n_events": len(data["events"]), "n_ratings": len(data["ratings"])})


def my_profile(request: HttpRequest) -> HttpResponse:
    """What the shop knows about you, and what you asked not to be shown (the app's profile)."""
    shopper = Shopper.from_request(request)
    stored = profiles.get_profile(shopper)
    data = dict(stored.data) if stored and stored.data else None
    if data:  # stored in English: shown in the shopper's language
        data["segment"] = profiles.segment_text(data.get("segment", ""))
        if data.get("price"):
            data["price"] = {**data["price"], "band": profiles.price_band_text(data["price"].get("band"))}
        data["shaping"] = [{**p, "why": profiles.why_text(p.get("why", ""))} for p in data.get("shaping") or []]
    return render(request, "catalog/my_profile.html", {
        "profile": stored, "data": data,
        "not_interested": profiles.not_interested_entries(shopper)})


@require_POST
def not_interested(request: HttpRequest) -> HttpResponse:
    """"Not interested" in a product or a category: gone from your lists from the next page on."""
    shopper = Shopper.from_request(request)
    if not shopper.known:
        shopper = Shopper(session_key=anonymous_session_key(request))
    product_id = request.POST.get("product", "")
    product = get_object_or_404(Product, pk=product_id) if product_id.isdigit() else None
    category = "" if product else request.POST.get("category", "").strip()
    if product is None and not (category and Category.objects.filter(name=category).exists()):
        messages.error(request, _("Choose a product or a category."))
    else:
        profiles.mark_not_interested(shopper, product=product, category=category)
        messages.success(request, _("We won't recommend %(what)s to you again.") % {"what": product or category})
    return _back(request, "catalog:my_profile")


@require_POST
def undo_not_interested(request: HttpRequest, pk: int) -> HttpResponse:
    if profiles.undo_not_interested(Shopper.from_request(request), pk):
        messages.success(request, _("Done: it can be recommended to you again."))
    return redirect("catalog:my_profile")


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """To the posted ``next`` page when it is on this site, else to ``default``."""
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    return redirect(default)
