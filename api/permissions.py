"""Django's model permissions decide what a person or a service user may do through the API."""

from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """DjangoModelPermissions, with reading needing the view permission too. A view can name the
    permissions of an action (POST …/enable needs change, not add) in `action_permissions`."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        queryset = self._queryset(view)
        perms = getattr(view, "action_permissions", None) or self.get_required_permissions(
            request.method, queryset.model
        )
        missing = [perm for perm in perms if not request.user.has_perm(perm)]
        if missing:
            self.message = (
                f"You lack the permission {', '.join(missing)} for this request. An administrator "
                "can grant it in the admin (Users, or REST API › Service users)."
            )
            return False
        return True
