"""The demo shop's pages. Capture uses only the recommendations app's public API: the view
mixin on the product page and the signals in the cart and checkout."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.generic import DetailView

from recommendations.signals import product_added_to_cart, product_purchased
from recommendations.tracking import TrackProductViewMixin

from .models import Category, Product

CART_SESSION_KEY = "cart"


def home(request: HttpRequest) -> HttpResponse:
    products = Product.objects.select_related("category").filter(in_stock=True)
    page = Paginator(products, 24).get_page(request.GET.get("page"))
    return render(request, "catalog/home.html",
                  {"page": page, "categories": Category.objects.all()})


def category(request: HttpRequest, slug: str) -> HttpResponse:
    cat = get_object_or_404(Category, slug=slug)
    page = Paginator(cat.products.select_related("category"), 24).get_page(request.GET.get("page"))
    return render(request, "catalog/home.html",
                  {"page": page, "category": cat, "categories": Category.objects.all()})


class ProductDetailView(TrackProductViewMixin, DetailView):
    model = Product
    queryset = Product.objects.select_related("category")
    template_name = "catalog/product_detail.html"


def _cart(request: HttpRequest) -> dict[str, int]:
    return request.session.setdefault(CART_SESSION_KEY, {})


@require_POST
def add_to_cart(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    quantity = max(1, int(request.POST.get("quantity", 1) or 1))
    cart = _cart(request)
    cart[str(product.pk)] = cart.get(str(product.pk), 0) + quantity
    request.session.modified = True
    product_added_to_cart.send(sender=Product, request=request, product=product, quantity=quantity)
    messages.success(request, f"Added {product.title} to your cart.")
    return redirect("catalog:cart")


def cart(request: HttpRequest) -> HttpResponse:
    items = _cart(request)
    products = Product.objects.in_bulk([int(pk) for pk in items])
    lines = [(products[int(pk)], qty) for pk, qty in items.items() if int(pk) in products]
    return render(request, "catalog/cart.html", {"lines": lines})


@login_required
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    items = _cart(request)
    products = Product.objects.in_bulk([int(pk) for pk in items])
    for pk, quantity in items.items():
        if int(pk) in products:
            product_purchased.send(sender=Product, request=request, product=products[int(pk)],
                                   quantity=quantity)
    request.session[CART_SESSION_KEY] = {}
    messages.success(request, "Thank you for your order.")
    return redirect("catalog:home")
