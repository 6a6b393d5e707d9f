from django.contrib import admin

from m3terdata.models import Account, Bill, ExternalMapping, LineItem


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "m3ter_id", "email", "currency", "country"]
    list_filter = ["currency"]
    search_fields = ["name", "code", "m3ter_id", "email"]
    readonly_fields = ["updated_at"]

    @admin.display(description="Country")
    def country(self, account):
        return account.address.get("country", "")


class LineItemInline(admin.TabularInline):
    model = LineItem
    extra = 0
    fields = [
        "sequence",
        "line_item_type",
        "description",
        "quantity",
        "unit",
        "subtotal",
        "product_name",
        "aggregation_id",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = [
        "m3ter_id",
        "account",
        "status",
        "bill_date",
        "currency",
        "total",
        "version",
        "locked",
    ]
    list_filter = ["status", "currency", "billing_frequency", "locked", "bill_date"]
    search_fields = [
        "m3ter_id",
        "account__name",
        "account__code",
        "bill_job_id",
        "purchase_order_number",
    ]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    date_hierarchy = "bill_date"
    readonly_fields = ["content_hash", "updated_at"]
    inlines = [LineItemInline]


@admin.register(ExternalMapping)
class ExternalMappingAdmin(admin.ModelAdmin):
    list_display = [
        "m3ter_entity",
        "m3ter_id",
        "external_system",
        "external_table",
        "external_id",
        "integration",
    ]
    list_filter = ["m3ter_entity", "external_system", "external_table"]
    search_fields = ["m3ter_id", "external_id"]
    list_select_related = ["integration"]
    raw_id_fields = ["integration"]
