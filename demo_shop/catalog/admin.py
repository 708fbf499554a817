from django.contrib import admin

from .models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "brand", "unit_price", "in_stock"]
    list_filter = ["in_stock", "category"]
    list_select_related = ["category"]
    search_fields = ["title", "brand"]
