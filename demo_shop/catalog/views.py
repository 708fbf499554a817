"""The demo shop's pages. Capture uses only the recommendations app's public API: the view
mixin on the product page, the signals in the cart and checkout, and its Rating model."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Avg, Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
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
MAX_QUANTITY = 99
SORTS = {  # ?sort= value -> (label, ordering)
    "name": ("Name", ("title", "pk")),
    "price": ("Price: low to high", ("unit_price", "pk")),
    "-price": ("Price: high to low", ("-unit_price", "pk")),
    "popularity": ("Best selling", ("-sales_count", "pk")),
    "rating": ("Customer rating", (F("rating_avg").desc(nulls_last=True), "-rating_count", "pk")),
}


def with_ratings(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.select_related("category").annotate(
        rating_avg=Avg("ratings__score"), rating_count=Count("ratings"))


def _listing(request: HttpRequest, products: QuerySet[Product], context: dict, default_sort: str = "name"):
    sort = request.GET.get("sort", default_sort)
    if sort not in SORTS:
        sort = default_sort
    products = with_ratings(products).order_by(*SORTS[sort][1])
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/listing.html", {
        **context, "page": page, "sort": sort,
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
    })


def home(request: HttpRequest) -> HttpResponse:
    best_sellers = with_ratings(Product.objects.filter(in_stock=True)).order_by("-sales_count", "pk")[:10]
    categories = Category.objects.annotate(n_products=Count("products")).order_by("name")
    return render(request, "catalog/home.html", {"best_sellers": best_sellers, "category_tiles": categories})


def all_products(request: HttpRequest) -> HttpResponse:
    return _listing(request, Product.objects.all(), {"heading": "All products"})


def category(request: HttpRequest, slug: str) -> HttpResponse:
    cat = get_object_or_404(Category, slug=slug)
    return _listing(request, cat.products.all(), {"heading": cat.name, "category": cat})


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    products = Product.objects.none()
    if query:
        match = Q()
        for word in query.split()[:8]:
            match &= (Q(title__icontains=word) | Q(summary__icontains=word) | Q(brand__icontains=word)
                      | Q(category__name__icontains=word))
        products = Product.objects.filter(match)
    heading = f"Results for “{query}”" if query else "Search"
    return _listing(request, products, {"heading": heading, "query": query}, default_sort="popularity")


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
        messages.success(request, f"Thanks! You rated {product.title} {form.cleaned_data['score']} out of 5.")
    else:
        messages.error(request, "Choose a rating from 1 to 5 stars.")
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
    product = get_object_or_404(Product, pk=pk)
    form = QuantityForm(request.POST)
    if not product.in_stock or not form.is_valid():
        messages.error(request, f"{product.title} is out of stock." if not product.in_stock
                       else f"Choose a quantity from 1 to {MAX_QUANTITY}.")
        return redirect(product)
    quantity = form.cleaned_data["quantity"]
    cart = _cart(request)
    cart[str(product.pk)] = min(MAX_QUANTITY, cart.get(str(product.pk), 0) + quantity)
    request.session.modified = True
    product_added_to_cart.send(sender=Product, request=request, product=product, quantity=quantity)
    messages.success(request, f"Added {product.title} to your cart.")
    return redirect("catalog:cart")


@require_POST
def update_cart(request: HttpRequest, pk: int) -> HttpResponse:
    cart = _cart(request)
    form = CartLineForm(request.POST)
    if str(pk) in cart and form.is_valid():
        if form.cleaned_data["quantity"]:
            cart[str(pk)] = form.cleaned_data["quantity"]
        else:
            del cart[str(pk)]
        request.session.modified = True
    return redirect("catalog:cart")


def cart(request: HttpRequest) -> HttpResponse:
    lines, total = cart_lines(request)
    return render(request, "catalog/cart.html", {"lines": lines, "total": total})


@login_required
def checkout(request: HttpRequest) -> HttpResponse:
    lines, total = cart_lines(request)
    if not lines:
        messages.info(request, "Your cart is empty.")
        return redirect("catalog:cart")
    form = CheckoutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            order = Order.objects.create(user=request.user, full_name=form.cleaned_data["full_name"],
                                         address=form.cleaned_data["address"],
                                         card_last4=form.cleaned_data["card_number"][-4:], total=total)
            OrderLine.objects.bulk_create([
                OrderLine(order=order, product=product, quantity=qty, unit_price=product.unit_price or 0)
                for product, qty, _ in lines])
            for product, qty, _ in lines:
                Product.objects.filter(pk=product.pk).update(sales_count=F("sales_count") + qty)
        for product, qty, _ in lines:
            product_purchased.send(sender=Order, request=request, product=product, quantity=qty)
        request.session[CART_SESSION_KEY] = {}
        messages.success(request, f"Thank you for your order! Payment of ${total} accepted (simulated).")
        return redirect(order)
    return render(request, "catalog/checkout.html", {"form": form, "lines": lines, "total": total})


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    history = Order.objects.filter(user=request.user).prefetch_related("lines__product")
    return render(request, "catalog/orders.html", {"orders": history})


@login_required
def order(request: HttpRequest, pk: int) -> HttpResponse:
    placed = get_object_or_404(Order.objects.prefetch_related("lines__product"), pk=pk, user=request.user)
    return render(request, "catalog/order.html", {"order": placed})


def signup(request: HttpRequest) -> HttpResponse:
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)  # keeps what they did while anonymous (the app merges it on login)
        messages.success(request, f"Welcome, {user.username}!")
        return _back(request, "catalog:home")
    return render(request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")})


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Download or erase what the recommendations know about you (orders stay: they are the shop's)."""
    shopper = Shopper.from_request(request)
    if request.method == "POST":
        deleted = privacy.erase(shopper)
        messages.success(request, f"Erased {deleted['events']} events and {deleted['ratings']} ratings; "
                                  "recommendations start afresh.")
        return redirect("catalog:my_data")
    data = privacy.export(shopper)
    return render(request, "catalog/my_data.html", {"n_events": len(data["events"]), "n_ratings": len(data["ratings"])})


def my_profile(request: HttpRequest) -> HttpResponse:
    """What the shop knows about you, and what you asked not to be shown (the app's profile)."""
    shopper = Shopper.from_request(request)
    stored = profiles.get_profile(shopper)
    return render(request, "catalog/my_profile.html", {
        "profile": stored, "data": stored.data if stored else None,
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
        messages.error(request, "Choose a product or a category.")
    else:
        profiles.mark_not_interested(shopper, product=product, category=category)
        messages.success(request, f"We won't recommend {product or category} to you again.")
    return _back(request, "catalog:my_profile")


@require_POST
def undo_not_interested(request: HttpRequest, pk: int) -> HttpResponse:
    if profiles.undo_not_interested(Shopper.from_request(request), pk):
        messages.success(request, "Done: it can be recommended to you again.")
    return redirect("catalog:my_profile")


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """To the posted ``next`` page when it is on this site, else to ``default``."""
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    return redirect(default)
