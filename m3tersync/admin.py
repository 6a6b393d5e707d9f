from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from m3terpaddle.admin_common import ViewOnly
from m3tersync import services
from m3tersync.models import InboundEvent, M3terConnection, M3terPull

EDITABLE_FIELDS = ["name", "org_id", "api_key_id", "base_url", "enabled", "webhook_api_key"]
SECRET_HELP = "Written once, never shown again. Leave blank to keep the stored one."


class HttpsURLField(forms.URLField):
    """A URL typed without a scheme means https (Django 6's default, chosen now)."""

    def __init__(self, **kwargs):
        super().__init__(assume_scheme="https", **kwargs)


class M3terConnectionForm(forms.ModelForm):
    api_secret = forms.CharField(
        label="API secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The service user's secret. " + SECRET_HELP,
    )
    webhook_secret = forms.CharField(
        label="Webhook API secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The API secret entered on m3ter's Outgoing webhook (M3TER_SIGNED_REQUEST). "
        + SECRET_HELP,
    )

    class Meta:
        model = M3terConnection
        fields = EDITABLE_FIELDS
        field_classes = {"base_url": HttpsURLField}

    def clean(self):
        data = super().clean()
        adding = self.instance._state.adding
        if adding and not data.get("api_secret"):
            self.add_error("api_secret", "The API secret is required.")
        if data.get("base_url"):
            try:
                services.connection_target_check(
                    connection=self.instance,
                    base_url=data["base_url"],
                    api_secret=data.get("api_secret", ""),
                )
            except forms.ValidationError as error:
                self.add_error(None, error)
        key = data.get("webhook_api_key", "")
        # Clearing the key clears the stored secret with it (connection_update).
        has_secret = bool(data.get("webhook_secret")) or (
            bool(key) and not adding and bool(self.instance.webhook_secret_encrypted)
        )
        try:
            services.webhook_credentials_check(webhook_api_key=key, has_secret=has_secret)
        except forms.ValidationError as error:
            self.add_error("webhook_api_key", error)
        return data


@admin.register(M3terConnection)
class M3terConnectionAdmin(admin.ModelAdmin):
    form = M3terConnectionForm
    change_form_template = "m3tersync/admin/connection_change_form.html"
    list_display = [
        "name",
        "org_id",
        "enabled",
        "last_pull_status",
        "last_pull_at",
        "last_test_ok",
        "last_tested_at",
    ]
    list_filter = ["enabled", "last_pull_status"]
    search_fields = ["name", "org_id", "api_key_id"]
    actions = ["test_connections"]
    readonly_fields = [
        "stored_api_secret",
        "stored_webhook_secret",
        "accounts_cursor",
        "external_mappings_cursor",
        "bills_cursor",
        "last_pull_at",
        "last_pull_status",
        "last_pull_error",
        "last_tested_at",
        "last_test_ok",
        "last_test_message",
    ]
    fieldsets = [
        (None, {"fields": ["name", "enabled"]}),
        (
            "m3ter API (the pull)",
            {"fields": ["org_id", "api_key_id", "api_secret", "stored_api_secret", "base_url"]},
        ),
        (
            "Webhooks from m3ter",
            {
                "description": "The API key and secret of the Outgoing webhook's "
                "M3TER_SIGNED_REQUEST credentials in m3ter. Leave both empty to refuse webhooks.",
                "fields": ["webhook_api_key", "webhook_secret", "stored_webhook_secret"],
            },
        ),
        (
            "Status",
            {
                "fields": [
                    "last_tested_at",
                    "last_test_ok",
                    "last_test_message",
                    "last_pull_at",
                    "last_pull_status",
                    "last_pull_error",
                    "accounts_cursor",
                    "external_mappings_cursor",
                    "bills_cursor",
                ]
            },
        ),
    ]

    @admin.display(description="Stored API secret")
    def stored_api_secret(self, connection):
        return connection.api_secret_hint or "—"

    @admin.display(description="Stored webhook API secret")
    def stored_webhook_secret(self, connection):
        return connection.webhook_secret_hint or "—"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in EDITABLE_FIELDS}
        secrets = {"api_secret": data["api_secret"], "webhook_secret": data["webhook_secret"]}
        if change:
            services.connection_update(connection=obj, **secrets, **fields)
            return
        created = services.connection_create(**secrets, **fields)
        obj.pk = created.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def get_urls(self):
        return [
            path(
                "<uuid:object_id>/test/",
                self.admin_site.admin_view(require_POST(self.test_view)),
                name="m3tersync_m3terconnection_test",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            extra_context["webhook_url"] = request.build_absolute_uri(
                reverse("m3tersync:webhook", args=[object_id])
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def _report_test(self, request, connection):
        result = services.connection_test(connection=connection)
        level = messages.SUCCESS if result.ok else messages.ERROR
        self.message_user(request, f"{connection.name}: {result.message}", level)

    def test_view(self, request, object_id):
        connection = get_object_or_404(M3terConnection, pk=object_id)
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        self._report_test(request, connection)
        return redirect("admin:m3tersync_m3terconnection_change", connection.pk)

    @admin.action(description="Test connection", permissions=["change"])
    def test_connections(self, request, queryset):
        for connection in queryset:
            self._report_test(request, connection)


@admin.register(M3terPull)
class M3terPullAdmin(ViewOnly, admin.ModelAdmin):
    list_display = [
        "started_at",
        "connection",
        "trigger",
        "status",
        "accounts_changed",
        "external_mappings_changed",
        "bills_changed",
        "records_skipped",
    ]
    list_filter = ["status", "trigger", "connection"]
    list_select_related = ["connection"]
    date_hierarchy = "started_at"


@admin.register(InboundEvent)
class InboundEventAdmin(ViewOnly, admin.ModelAdmin):
    list_display = [
        "received_at",
        "connection",
        "event_name",
        "entity_id",
        "entity_version",
        "status",
        "outcome",
    ]
    list_filter = ["status", "event_name", "connection"]
    list_select_related = ["connection"]
    search_fields = ["event_id", "entity_id"]
    date_hierarchy = "received_at"
