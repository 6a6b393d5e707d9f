from django import forms
from django.contrib import admin

from integrations.forms import ConfigurationForm, validate_configuration
from integrations.models import IntegrationConfiguration
from integrations.services import CONFIG_FIELDS, integration_delete


class IntegrationConfigurationAdminForm(forms.ModelForm):
    """The admin saves the model directly, so it checks with the same rules as the wizard."""

    # Checkboxes named as the configuration pages name the types, not a JSON list of constants.
    excluded_line_item_types = ConfigurationForm.base_fields["excluded_line_item_types"]

    class Meta:
        model = IntegrationConfiguration
        fields = [*CONFIG_FIELDS, "enabled", "disabled_reason", "users_to_notify"]

    def clean(self):
        cleaned_data = super().clean()
        values = {name: cleaned_data.get(name) for name in CONFIG_FIELDS if name in self.fields}
        cleaned = validate_configuration(self, values)
        if cleaned is not None:
            cleaned_data.update({name: cleaned[name] for name in values})
        return cleaned_data


@admin.register(IntegrationConfiguration)
class IntegrationConfigurationAdmin(admin.ModelAdmin):
    form = IntegrationConfigurationAdminForm
    list_display = [
        "name",
        "entity_type",
        "destination",
        "connected",
        "enabled",
        "credential",
        "updated_at",
    ]
    list_filter = ["destination", "enabled", "entity_type", "sort_line_items_by"]
    search_fields = ["name", "id", "account_filter"]
    list_select_related = ["credential"]
    # The credential is attached on the details page, which checks it suits the destination.
    readonly_fields = [
        "id",
        "credential",
        "version",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
    ]
    filter_horizontal = ["users_to_notify"]

    def save_model(self, request, obj, form, change):
        # A saved change is a new version, so API clients holding the old one are refused.
        if change:
            obj.version += 1
        else:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(boolean=True, description="Connected")
    def connected(self, integration):
        return integration.connected

    # Deleting here does what the integration's Delete button does (integrations.services).
    def delete_model(self, request, obj):
        integration_delete(integration=obj)

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            integration_delete(integration=integration)
