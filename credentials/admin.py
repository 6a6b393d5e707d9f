"""Credentials in the Django admin: list, add, rename or replace the key, test, delete.

Writes go through credentials.services; the admin only lays the pages out.
"""

from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from credentials.forms import CredentialChangeForm, CredentialCreateForm
from credentials.models import IntegrationCredential
from credentials.services import (
    credential_create,
    credential_delete,
    credential_test_connection,
    credential_update,
)
from paddle_destination.notifications import notifications_set_up, status_sync_lines


@admin.register(IntegrationCredential)
class IntegrationCredentialAdmin(admin.ModelAdmin):
    list_display = ["name", "destination", "api_key_hint", "used_by_list", "last_test"]
    list_filter = ["destination"]
    search_fields = ["name"]
    actions = ["test_connection_action"]
    readonly_fields = ["destination", "api_key_hint", "used_by", "last_test", "invoice_status_sync",
                       "created_at", "updated_at"]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(integration_count=Count("integrations"))
            .prefetch_related("integrations")
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = CredentialChangeForm if obj is not None else CredentialCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["name", "destination", "api_key"]})]
        return [
            (None, {"fields": ["name", "destination", "api_key_hint", "new_api_key"]}),
            ("Connection", {"fields": ["last_test", "used_by"]}),
            ("Invoice statuses from Paddle", {"fields": ["invoice_status_sync"]}),
            ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    # --- saving through the services ------------------------------------------------------------

    def save_form(self, request, form, change):
        """The service writes (validation, encryption); the admin gets the saved credential."""
        data = form.cleaned_data
        if change:
            return credential_update(
                credential=form.instance,
                name=data["name"],
                api_key=data.get("new_api_key") or None,
                user=request.user,
            )
        return credential_create(
            name=data["name"],
            destination=data["destination"],
            api_key=data["api_key"],
            user=request.user,
        )

    def save_model(self, request, obj, form, change):
        pass  # saved by save_form, through the services

    def save_related(self, request, form, formsets, change):
        pass  # a credential has no related objects to save

    def delete_model(self, request, obj):
        credential_delete(credential=obj)

    def delete_queryset(self, request, queryset):
        for credential in queryset:
            credential_delete(credential=credential)

    def response_add(self, request, obj, post_url_continue=None):
        """Back to where the add page was opened from (an integration's "Add Credential")."""
        next_url = request.GET.get("next") or request.POST.get("next")
        staying = {"_continue", "_addanother", "_popup"} & set(request.POST)
        if (
            next_url
            and not staying
            and url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            self.message_user(
                request,
                f"The credential “{obj.name}” was added; you can attach it now.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(next_url)
        return super().response_add(request, obj, post_url_continue)

    # --- test connection ------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(require_POST(self.test_connection_view)),
                name=f"{self.opts.app_label}_{self.opts.model_name}_test_connection",
            ),
            path(
                "<path:object_id>/set-up-webhooks/",
                self.admin_site.admin_view(require_POST(self.set_up_webhooks_view)),
                name=f"{self.opts.app_label}_{self.opts.model_name}_set_up_webhooks",
            ),
            *super().get_urls(),
        ]

    def set_up_webhooks_view(self, request, object_id):
        credential = get_object_or_404(IntegrationCredential, pk=object_id)
        if not self.has_change_permission(request, credential):
            return HttpResponseRedirect(reverse("admin:index"))
        sync = notifications_set_up(credential=credential)
        if sync.webhooks_set_up:
            self.message_user(
                request, f"{credential.name}: Paddle's webhooks are set up.", messages.SUCCESS
            )
        else:
            self.message_user(
                request, f"{credential.name}: {status_sync_lines(sync)[0]}", messages.WARNING
            )
        return HttpResponseRedirect(
            reverse("admin:credentials_integrationcredential_change", args=[credential.pk])
        )

    def test_connection_view(self, request, object_id):
        credential = get_object_or_404(IntegrationCredential, pk=object_id)
        if not self.has_change_permission(request, credential):
            return HttpResponseRedirect(reverse("admin:index"))
        self._report(request, credential)
        return HttpResponseRedirect(
            reverse("admin:credentials_integrationcredential_change", args=[credential.pk])
        )

    @admin.action(description="Test connection of the selected credentials")
    def test_connection_action(self, request, queryset):
        for credential in queryset:
            self._report(request, credential)

    def _report(self, request, credential):
        result = credential_test_connection(credential=credential)
        self.message_user(
            request,
            f"{credential.name}: {result.message}",
            messages.SUCCESS if result.ok else messages.ERROR,
        )

    # --- columns and read-only fields -----------------------------------------------------------

    @admin.display(description="Used by", ordering="integration_count")
    def used_by_list(self, obj):
        names = [i.name for i in obj.integrations.all()]
        return ", ".join(names) if names else "—"

    @admin.display(description="Used by integrations")
    def used_by(self, obj):
        integrations = list(obj.integrations.all())
        if not integrations:
            return "No integration uses this credential; it can be deleted."
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("integrations:detail", args=[i.pk]), i.name) for i in integrations),
        )

    @admin.display(description="Status sync")
    def invoice_status_sync(self, obj):
        return format_html_join(
            "",
            '<p style="margin:0 0 4px" data-testid="status-sync">{}</p>',
            ((line,) for line in status_sync_lines(getattr(obj, "status_sync", None))),
        )

    @admin.display(description="Last tested", ordering="last_tested_at")
    def last_test(self, obj):
        if obj.last_tested_at is None:
            return "Never tested"
        icon = "admin/img/icon-yes.svg" if obj.last_test_ok else "admin/img/icon-no.svg"
        return format_html(
            '<img src="{}" alt="{}"> {} UTC<br><span class="help">{}</span>',
            static(icon),
            "OK" if obj.last_test_ok else "Failed",
            date_format(obj.last_tested_at, "Y-m-d H:i"),
            obj.last_test_message,
        )
