"""Service users in the admin: made with a name and permissions; the API key's secret is shown
once, on the page that follows, and never stored in clear (nor put in a message or the session)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from api.models import ApiKey, ServiceUser
from api.services import (
    api_key_create,
    api_key_revoke,
    service_user_create,
    service_user_name_check,
    service_user_update,
)


class ServiceUserForm(forms.ModelForm):
    name = forms.CharField(max_length=150, help_text="The user name the API acts as.")
    permissions = forms.ModelMultipleChoiceField(
        queryset=Permission.objects.select_related("content_type"),
        required=False,
        widget=FilteredSelectMultiple("permissions", is_stacked=False),
        help_text="What the service user may do, as for a person: view_… to read, add_… / "
        "change_… / delete_… to write.",
    )
    is_active = forms.BooleanField(
        required=False, initial=True, label="Active", help_text="Untick to stop all its tokens."
    )

    class Meta:
        model = ServiceUser
        fields = ["description"]

    def clean_name(self):
        existing = self.instance.user if self.instance.pk else None
        try:
            return service_user_name_check(self.cleaned_data["name"], exclude_user=existing)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["name"]) from None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            user = self.instance.user
            self.initial.update(
                name=user.username,
                permissions=list(user.user_permissions.all()),
                is_active=user.is_active,
            )


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["key_id", "secret_hint", "active", "created_at", "last_used_at"]
    readonly_fields = ["key_id", "secret_hint", "created_at", "last_used_at"]

    def has_add_permission(self, request, obj=None):
        # New keys come from the "Make a new API key" action, which shows the secret once.
        return False


@admin.register(ServiceUser)
class ServiceUserAdmin(admin.ModelAdmin):
    form = ServiceUserForm
    list_display = ["__str__", "description", "is_active", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "description"]
    actions = ["make_api_key"]

    def get_inlines(self, request, obj):
        return [ApiKeyInline] if obj else []

    @admin.display(boolean=True, description="Active")
    def is_active(self, service_user):
        return service_user.user.is_active

    def save_formset(self, request, form, formset, change):
        if formset.model is not ApiKey:
            super().save_formset(request, form, formset, change)
            return
        # Unticking Active is a revocation: the service also ends the key's access tokens.
        for api_key in formset.save(commit=False):
            if api_key.active:
                api_key.save()
            else:
                api_key_revoke(api_key=api_key)
        for api_key in formset.deleted_objects:
            api_key.delete()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            service_user_update(
                service_user=obj,
                name=data["name"],
                permissions=data["permissions"],
                description=data["description"],
                is_active=data["is_active"],
            )
            return
        created, api_key, secret = service_user_create(
            name=data["name"],
            permissions=data["permissions"],
            description=data["description"],
            is_active=data["is_active"],
            created_by=request.user,
        )
        # The admin carries on with `obj` (log entry, redirect): make it the one just created.
        obj.pk, obj.user, obj.created_at = created.pk, created.user, created.created_at
        obj._state.adding = False
        obj.new_keys = [(api_key, secret)]

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(obj, "new_keys", None):
            return self._show_secrets(request, obj.new_keys)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Make a new API key (the secret is shown once)")
    def make_api_key(self, request, queryset):
        keys = [api_key_create(service_user=service_user) for service_user in queryset]
        return self._show_secrets(request, keys)

    def _show_secrets(self, request, keys):
        response = TemplateResponse(
            request,
            "api/admin/api_key_created.html",
            {
                **self.admin_site.each_context(request),
                "title": "Copy the API secret now",
                "opts": self.model._meta,
                "keys": keys,
                "token_url": request.build_absolute_uri("/oauth/token"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response
