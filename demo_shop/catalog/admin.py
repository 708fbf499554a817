from django.contrib import admin

from .models import Category, Order, OrderLine, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "brand", "unit_price", "in_stock", "sales_count"]
    list_filter = ["in_stock", "category"]
    list_select_related = ["category"]
    search_fields = ["title", "brand"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    raw_id_fields = ["product"]
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "created_at", "total"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    inlines = [OrderLineInline]
