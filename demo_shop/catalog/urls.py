from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.all_products, name="products"),
    path("category/<slug:slug>/", views.category, name="category"),
    path("search/", views.search, name="search"),
    path("product/<int:pk>/", views.ProductDetailView.as_view(), name="product"),
    path("product/<int:pk>/image.svg", views.product_image, name="product_image"),
    path("product/<int:pk>/rate/", views.rate, name="rate"),
    path("product/<int:pk>/add-to-cart/", views.add_to_cart, name="add_to_cart"),
    path("cart/", views.cart, name="cart"),
    path("cart/<int:pk>/", views.update_cart, name="update_cart"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/data/", views.my_data, name="my_data"),
    path("accounts/profile/", views.my_profile, name="my_profile"),
    path("accounts/not-interested/", views.not_interested, name="not_interested"),
    path("accounts/not-interested/<int:pk>/undo/", views.undo_not_interested, name="undo_not_interested"),
]
