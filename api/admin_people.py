"""Django's own user and group pages, with the rule the service-user page follows: nobody grants a
permission they do not hold (directly, through a group, or by making someone a superuser)."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError

from api.services import permissions_grant_check


def _grant_checked(form_class, *, granter, held, permissions_of):
    """form_class whose clean() refuses permissions `granter` lacks; `held` are the ones the
    object had already, `permissions_of(cleaned_data)` the ones it would have."""

    class GrantChecked(form_class):
        def clean(self):
            data = super().clean()
            if data.get("is_superuser") and not granter.is_superuser and "is_superuser" in (
                self.changed_data
            ):
                self.add_error("is_superuser", "Only a superuser can make a superuser.")
            try:
                permissions_grant_check(
                    granted_by=granter, permissions=permissions_of(data), already_held=held
                )
            except ValidationError as error:
                raise forms.ValidationError(error.message_dict["permissions"]) from None
            return data

    return GrantChecked


def _all_permissions(*, permissions, groups) -> list[Permission]:
    through_groups = Permission.objects.filter(group__in=groups) if groups else []
    return list({p.pk: p for p in [*permissions, *through_groups]}.values())


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class GrantCheckedUserAdmin(UserAdmin):
    def get_form(self, request, obj=None, **kwargs):
        held = (
            _all_permissions(permissions=obj.user_permissions.all(), groups=obj.groups.all())
            if obj
            else []
        )
        return _grant_checked(
            super().get_form(request, obj, **kwargs),
            granter=request.user,
            held=held,
            permissions_of=lambda data: _all_permissions(
                permissions=data.get("user_permissions") or [], groups=data.get("groups") or []
            ),
        )


@admin.register(Group)
class GrantCheckedGroupAdmin(GroupAdmin):
    def get_form(self, request, obj=None, **kwargs):
        return _grant_checked(
            super().get_form(request, obj, **kwargs),
            granter=request.user,
            held=list(obj.permissions.all()) if obj else [],
            permissions_of=lambda data: data.get("permissions") or [],
        )
