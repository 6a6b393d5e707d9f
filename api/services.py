"""Use cases of the REST API's own data: service users, their API keys and bearer tokens. The
admin, the create_service_user command and the API views all call these."""

import datetime
import secrets
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.models import AccessToken, ApiKey, ServiceUser, secret_digest
from credentials.crypto import secret_hint


class InvalidClient(Exception):
    """The key id and secret do not name an active API key of an active service user."""


def permissions_from_names(names) -> list[Permission]:
    """Permissions from "app_label.codename" names ("app_label.*" for all of an app's); raises
    ValidationError naming any that do not exist."""
    wanted, whole_apps, malformed = {}, [], []
    for name in names:
        app_label, _, codename = name.strip().partition(".")
        if not app_label or not codename:
            malformed.append(name)
        elif codename == "*":
            whole_apps.append(app_label)
        else:
            wanted[(app_label, codename)] = name
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.filter(
            Q(codename__in=[c for _, c in wanted]) | Q(content_type__app_label__in=whole_apps)
        ).select_related("content_type")
    }
    unknown = [name for key, name in wanted.items() if key not in found]
    apps_found = {app_label for app_label, _ in found}
    unknown += [f"{app}.*" for app in whole_apps if app not in apps_found]
    if malformed or unknown:
        raise ValidationError(
            {
                "permissions": (
                    f"Unknown permissions: {', '.join(malformed + unknown)}. Give them as "
                    "app_label.codename (e.g. integrations.view_integrationconfiguration) or "
                    "app_label.* for all of an app's."
                )
            }
        )
    picked = [found[key] for key in wanted]
    picked += [p for key, p in found.items() if key[0] in whole_apps and p not in picked]
    return picked


def api_key_create(*, service_user: ServiceUser) -> tuple[ApiKey, str]:
    """A new key; the secret is returned here and never again."""
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        service_user=service_user,
        key_id=str(uuid.uuid4()),
        secret_digest=secret_digest(secret),
        secret_hint=secret_hint(secret),
    )
    return api_key, secret


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        api_key.active = False
        api_key.save(update_fields=["active"])
        api_key.access_tokens.all().delete()
    return api_key


def service_user_name_check(name: str, *, exclude_user=None) -> str:
    """The name cleaned, or ValidationError when it is empty or another user has it."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the service user a name."})
    others = get_user_model().objects.filter(username=name)
    if exclude_user is not None:
        others = others.exclude(pk=exclude_user.pk)
    if others.exists():
        raise ValidationError({"name": f"A user named {name!r} exists already; choose another."})
    return name


def service_user_create(
    *,
    name: str,
    permissions=(),
    description: str = "",
    is_active: bool = True,
    created_by=None,
) -> tuple[ServiceUser, ApiKey, str]:
    """A service user holding `permissions` (Permission objects) and a first API key; returns the
    secret of that key, which is shown once."""
    name = service_user_name_check(name)
    with transaction.atomic():
        user = get_user_model()(username=name, is_active=is_active)
        # No password: a service user signs in with API keys only, never to the admin.
        user.set_unusable_password()
        user.save()
        user.user_permissions.set(permissions)
        service_user = ServiceUser.objects.create(
            user=user, description=description, created_by=created_by
        )
        api_key, secret = api_key_create(service_user=service_user)
    return service_user, api_key, secret


def service_user_update(
    *, service_user: ServiceUser, name: str, permissions, description: str, is_active: bool
) -> ServiceUser:
    """Rename, re-permission or (de)activate; deactivating stops its tokens at once."""
    user = service_user.user
    name = service_user_name_check(name, exclude_user=user)
    with transaction.atomic():
        user.username, user.is_active = name, is_active
        user.save(update_fields=["username", "is_active"])
        user.user_permissions.set(permissions)
        service_user.description = description
        service_user.save(update_fields=["description"])
    return service_user


def access_token_issue(*, key_id: str, secret: str) -> tuple[str, int]:
    """A bearer token for the key (m3ter's client-credentials grant); returns it and its lifetime
    in seconds. Raises InvalidClient when the key id and secret do not match an active key."""
    api_key = (
        ApiKey.objects.select_related("service_user__user")
        .filter(key_id=key_id, active=True, service_user__user__is_active=True)
        .first()
    )
    if api_key is None or not api_key.secret_matches(secret):
        raise InvalidClient()
    lifetime = settings.API_TOKEN_LIFETIME_SECONDS
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # Clients that ask for a token before every call would otherwise pile up dead rows.
        api_key.access_tokens.filter(expires_at__lte=now).delete()
        AccessToken.objects.create(
            api_key=api_key,
            token_digest=secret_digest(token),
            expires_at=now + datetime.timedelta(seconds=lifetime),
        )
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return token, lifetime


def access_token_user(*, token: str):
    """The user a live bearer token stands for, or None."""
    access = (
        AccessToken.objects.select_related("api_key__service_user__user")
        .filter(
            token_digest=secret_digest(token),
            expires_at__gt=timezone.now(),
            api_key__active=True,
            api_key__service_user__user__is_active=True,
        )
        .first()
    )
    return (access.api_key.service_user.user, access) if access else None
