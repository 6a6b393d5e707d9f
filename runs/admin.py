"""Read-mostly admin for runs: people review them here or on the Runs pages, and change them only
through Retry and Replay (runs.services), never by editing fields."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from m3terpaddle.admin_common import ViewOnly
from m3terpaddle.text import sentences
from runs import services
from runs.models import Delivery, IntegrationRun, RunAttempt, RunLogEntry


class ReadOnlyAdmin(ViewOnly, admin.ModelAdmin):
    """Rows written by the engine only: viewable, never added, edited or deleted here."""

    # Paddle links are https; say so rather than rely on Django's changing default.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ViewOnly, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


class RunAttemptInline(ReadOnlyInline):
    model = RunAttempt
    fields = ["number", "started_at", "duration_ms", "outcome"]
    readonly_fields = fields


class RunLogEntryInline(ReadOnlyInline):
    model = RunLogEntry
    fields = ["created_at", "level", "message"]
    readonly_fields = fields
    show_change_link = False


@admin.register(IntegrationRun)
class IntegrationRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "status",
        "integration_name",
        "entity_id",
        "account",
        "destination",
        "trigger",
        "external_id",
    ]
    list_filter = ["status", "destination", "trigger", "created_at"]
    search_fields = ["=id", "=entity_id", "=external_id", "integration_name", "account__name"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"
    # The changelist's count would scan every run; the page of rows itself is indexed.
    show_full_result_count = False
    readonly_fields = ["review_page"]
    inlines = [RunAttemptInline, RunLogEntryInline]
    actions = ["retry_runs"]

    def has_retry_permission(self, request):
        return request.user.has_perm("runs.change_integrationrun")

    @admin.action(description="Retry the selected failed runs", permissions=["retry"])
    def retry_runs(self, request, queryset):
        retried, refused = 0, []
        for run in queryset.filter(status__in=services.PERSON_RETRYABLE_STATUSES):
            try:
                services.run_retry(run=run, user=request.user)
                retried += 1
            except ValidationError as error:
                refused.append(f"{run.pk}: {sentences(*error.messages)}")
        skipped = queryset.count() - retried - len(refused)
        self.message_user(
            request,
            f"Retried {retried} run(s); {skipped} had not failed and were left alone.",
            messages.SUCCESS,
        )
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.display(description="Review page")
    def review_page(self, run):
        return format_html(
            '<a href="{}">Open the run details page</a>', reverse("runs:detail", args=[run.pk])
        )


@admin.register(RunAttempt)
class RunAttemptAdmin(ReadOnlyAdmin):
    list_display = ["run", "number", "started_at", "duration_ms", "outcome"]
    list_filter = ["outcome"]
    search_fields = ["=run__id"]
    list_select_related = ["run"]
    show_full_result_count = False


@admin.register(RunLogEntry)
class RunLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "run", "level", "message"]
    list_filter = ["level"]
    search_fields = ["=run__id", "message"]
    list_select_related = ["run"]
    show_full_result_count = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "bill_m3ter_id",
        "integration",
        "external_id",
        "customer_id",
        "delivered_version",
        "delivered_at",
    ]
    search_fields = ["=bill_m3ter_id", "=external_id", "=customer_id"]
    list_select_related = ["integration"]
    list_filter = ["integration"]
