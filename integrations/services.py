"""Use cases for integration configurations. The wizard, the details page, the REST API and the
admin all call these, so every road applies the same rules."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django_q.tasks import async_task

from credentials.models import Destination, IntegrationCredential
from credentials.services import credential_create
from integrations.account_filter import AccountFilterError, compile_filter
from integrations.models import (
    EntityType,
    IntegrationConfiguration,
    NegativeLineItems,
    SortLineItemsBy,
    TaxCategory,
    TaxMode,
)
from integrations.selectors import integration_mappings_covered
from m3terdata.models import Account, LineItemType
from m3terpaddle.text import sentence

NAME_MAX_LENGTH = IntegrationConfiguration._meta.get_field("name").max_length
NAME_REQUIRED = "Give the integration a name."

CONFIG_FIELDS = (
    "name",
    "entity_type",
    "destination",
    "account_ids",
    "restricted_account_ids",
    "only_send_bill_on_approval",
    "use_external_mapping_account_code",
    "excluded_line_item_types",
    "sort_line_items_by",
    "account_filter",
    "tax_mode",
    "tax_category",
    "negative_line_items",
    "business_name_field",
    "tax_number_field",
    "company_number_field",
)
# The account custom fields that describe a buyer's business, with their defaults.
BUSINESS_FIELD_DEFAULTS = {
    "business_name_field": "companyName",
    "tax_number_field": "taxNumber",
    "company_number_field": "companyNumber",
}
_CHOICES = {
    "tax_mode": ("Tax Mode", TaxMode),
    "tax_category": ("Tax Category", TaxCategory),
    "negative_line_items": ("Negative Line Items", NegativeLineItems),
}


@dataclass(frozen=True)
class VersionConflict(Exception):
    current_version: int

    def __str__(self):
        return (
            f"This integration was changed by someone else (it is now at version "
            f"{self.current_version}). Reload it and apply your change again."
        )


def _account_labels(account_ids):
    labels = dict(Account.objects.filter(m3ter_id__in=account_ids).values_list("m3ter_id", "name"))
    return {account_id: labels.get(account_id, account_id) for account_id in account_ids}


def integration_validate(*, values: dict) -> dict:
    """Check a configuration as a whole and return it cleaned; raises ValidationError with
    messages per field that say what to fix."""
    errors = {}
    cleaned = dict(values)

    name = (cleaned.get("name") or "").strip()
    if not name:
        errors["name"] = [NAME_REQUIRED]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [
            f"Use at most {NAME_MAX_LENGTH} characters for the name (it has {len(name)})."
        ]
    cleaned["name"] = name

    if cleaned.get("entity_type", EntityType.BILL) not in EntityType.values:
        errors["entity_type"] = f"Entity type must be one of: {', '.join(EntityType.values)}."
    if cleaned.get("destination") not in Destination.values:
        errors["destination"] = (
            f"Destination must be one of: {', '.join(Destination.values)} "
            "(Paddle or Paddle (Sandbox Mode))."
        )

    allowed = list(dict.fromkeys(cleaned.get("account_ids") or []))
    restricted = list(dict.fromkeys(cleaned.get("restricted_account_ids") or []))
    cleaned["account_ids"], cleaned["restricted_account_ids"] = allowed, restricted
    known = set(
        Account.objects.filter(m3ter_id__in=allowed + restricted).values_list("m3ter_id", flat=True)
    )
    for field, account_ids in (("account_ids", allowed), ("restricted_account_ids", restricted)):
        unknown = [account_id for account_id in account_ids if account_id not in known]
        if unknown:
            errors.setdefault(field, []).append(f"No account with id: {', '.join(unknown)}.")
    both = [account_id for account_id in allowed if account_id in restricted]
    if both:
        labels = _account_labels(both)
        names = ", ".join(f"{labels[a]} ({a})" for a in both)
        errors.setdefault("restricted_account_ids", []).append(
            f"An account cannot be both included and excluded: {names}. "
            "Remove it from Account Ids or from Restricted Account Ids."
        )

    excluded = list(dict.fromkeys(cleaned.get("excluded_line_item_types") or []))
    wrong = [t for t in excluded if t not in LineItemType.values]
    if wrong:
        errors["excluded_line_item_types"] = (
            f"Unknown line item types: {', '.join(map(str, wrong))}. "
            f"Known: {', '.join(LineItemType.values)}."
        )
    cleaned["excluded_line_item_types"] = excluded

    sort_by = cleaned.get("sort_line_items_by") or SortLineItemsBy.NONE
    if sort_by not in SortLineItemsBy.values:
        errors["sort_line_items_by"] = (
            f"Sort Line Items By must be one of: {', '.join(SortLineItemsBy.values)}."
        )
    cleaned["sort_line_items_by"] = sort_by

    account_filter = (cleaned.get("account_filter") or "").strip()
    try:
        compile_filter(account_filter)
    except AccountFilterError as error:
        errors["account_filter"] = str(error)
    cleaned["account_filter"] = account_filter

    for field, (label, choices) in _CHOICES.items():
        value = cleaned.get(field) or IntegrationConfiguration._meta.get_field(field).default
        if value not in choices.values:
            errors[field] = f"{label} must be one of: {', '.join(choices.values)}."
        cleaned[field] = value
    for field, default in BUSINESS_FIELD_DEFAULTS.items():
        # Blank turns that part of the business off; a missing value is the default.
        name = cleaned.get(field)
        name = default if name is None else str(name).strip()
        if len(name) > 100:
            errors[field] = (
                f"Use at most 100 characters for a custom field name (it has {len(name)})."
            )
        cleaned[field] = name

    for flag in ("only_send_bill_on_approval", "use_external_mapping_account_code"):
        cleaned[flag] = bool(cleaned.get(flag, False))

    if "users_to_notify" in cleaned:
        cleaned["users_to_notify"], users_error = _users_to_notify(cleaned["users_to_notify"])
        if users_error:
            errors["users_to_notify"] = users_error

    if errors:
        raise ValidationError(errors)
    return cleaned


def _users_to_notify(people) -> tuple[list, str]:
    """Integration disabled notification users: the users named (by username or as users) and,
    when some cannot be e-mailed, what to fix."""
    names = list(dict.fromkeys(str(getattr(person, "username", person)) for person in people or []))
    found = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=names, is_active=True)
    }
    unknown = [name for name in names if name not in found]
    if unknown:
        return [], f"No active user named: {', '.join(unknown)}. Pick users of this hub."
    without_email = [name for name in names if not found[name].email]
    if without_email:
        return [], (
            f"These users have no e-mail address to be notified at: {', '.join(without_email)}. "
            "Add one (Admin › Users) or pick other users."
        )
    return [found[name] for name in names], ""


def integration_create(*, values: dict, user=None) -> IntegrationConfiguration:
    cleaned = integration_validate(values=values)
    credential = cleaned.pop("credential", None)
    with transaction.atomic():
        integration = IntegrationConfiguration(
            **{key: cleaned[key] for key in CONFIG_FIELDS if key in cleaned},
            created_by=user,
            updated_by=user,
        )
        if credential is not None:
            # Attached in the same write: a new configuration is version 1, with or without one.
            _refuse_other_destination(integration, credential)
            integration.credential = credential
        integration.save()
        if "users_to_notify" in cleaned:
            integration.users_to_notify.set(cleaned["users_to_notify"])
        if credential is not None:
            _credential_in_use(credential)
    return integration


def integration_update(
    *, integration: IntegrationConfiguration, values: dict, user=None, expected_version=None
) -> IntegrationConfiguration:
    """Change the configuration. With expected_version, a stale copy is refused
    (VersionConflict) rather than silently overwriting someone else's change."""
    merged = {key: getattr(integration, key) for key in CONFIG_FIELDS} | values
    if merged["destination"] != integration.destination and integration.credential_id:
        raise ValidationError(
            {"destination": "Disconnect the credential before changing the destination."}
        )
    cleaned = integration_validate(values=merged)
    with transaction.atomic():
        current = IntegrationConfiguration.objects.select_for_update().get(pk=integration.pk)
        if expected_version is not None and expected_version != current.version:
            raise VersionConflict(current_version=current.version)
        for key in CONFIG_FIELDS:
            setattr(current, key, cleaned[key])
        current.version += 1
        current.updated_by = user
        current.save()
        if "users_to_notify" in cleaned:
            current.users_to_notify.set(cleaned["users_to_notify"])
    return current


def _bump(integration, *, user, fields):
    integration.version += 1
    integration.updated_by = user
    integration.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
    return integration


def integration_attach_credential(
    *, integration: IntegrationConfiguration, credential: IntegrationCredential, user=None
) -> IntegrationConfiguration:
    _refuse_other_destination(integration, credential)
    integration.credential = credential
    integration.consecutive_auth_failures = 0
    integration = _bump(integration, user=user, fields=["credential", "consecutive_auth_failures"])
    _credential_in_use(credential)
    return integration


def _refuse_other_destination(integration, credential):
    if credential.destination != integration.destination:
        raise ValidationError(
            {
                "credential": (
                    f"The credential {credential.name!r} is for "
                    f"{credential.get_destination_display()}, but this integration sends to "
                    f"{integration.get_destination_display()}. Choose a "
                    f"{integration.get_destination_display()} credential."
                )
            }
        )


def _credential_in_use(credential):
    # A credential in use gets Paddle's webhooks for its invoices (if it has none yet).
    transaction.on_commit(
        lambda: async_task("paddle_destination.tasks.notifications_ensure_task", str(credential.pk))
    )


def integration_credential_add(
    *, integration: IntegrationConfiguration, name: str, api_key: str, user=None
) -> IntegrationCredential:
    """Make a credential for the integration's destination and connect the integration with it:
    both or neither, so a refused key leaves no stray credential behind."""
    with transaction.atomic():
        credential = credential_create(
            name=name, destination=integration.destination, api_key=api_key, user=user
        )
        integration_attach_credential(integration=integration, credential=credential, user=user)
    return credential


def integration_detach_credential(
    *, integration: IntegrationConfiguration, user=None
) -> IntegrationConfiguration:
    credential_id = integration.credential_id
    integration.credential = None
    integration = _bump(integration, user=user, fields=["credential"])
    if (
        credential_id
        and not IntegrationConfiguration.objects.filter(credential_id=credential_id).exists()
    ):
        # No longer in use: its webhooks are removed from Paddle.
        transaction.on_commit(
            lambda: async_task(
                "paddle_destination.tasks.notifications_remove_task", str(credential_id)
            )
        )
    return integration


def integration_enable(*, integration: IntegrationConfiguration, user=None):
    integration.enabled = True
    integration.disabled_reason = ""
    integration.consecutive_auth_failures = 0
    return _bump(
        integration, user=user, fields=["enabled", "disabled_reason", "consecutive_auth_failures"]
    )


def integration_disable(*, integration: IntegrationConfiguration, user=None, reason: str = ""):
    integration.enabled = False
    integration.disabled_reason = sentence(reason)
    return _bump(integration, user=user, fields=["enabled", "disabled_reason"])


def integration_delete(*, integration: IntegrationConfiguration) -> None:
    """Delete the configuration and its delivery records (the transactions stay in Paddle). Its
    runs stay for review (they keep the integration's name). Its external mappings (an account's
    Paddle customer and address) describe Paddle's customers, not the integration, so they stay
    as mappings for every integration, unless one for every integration exists already."""
    with transaction.atomic():
        integration_mappings_covered(integration=integration).delete()
        integration.external_mappings.update(integration=None)
        integration.delete()


# integration_replace's "leave the credential as it is".
KEEP = object()


def integration_replace(
    *,
    integration: IntegrationConfiguration,
    values: dict,
    expected_version: int,
    credential=KEEP,
    user=None,
) -> IntegrationConfiguration:
    """m3ter's PUT of an integration: its configuration and its credential (a credential, None to
    detach, or KEEP) changed together, all or nothing, refused when expected_version is stale."""
    with transaction.atomic():
        current = IntegrationConfiguration.objects.select_for_update().get(pk=integration.pk)
        if expected_version != current.version:
            raise VersionConflict(current_version=current.version)
        new_credential_id = None if credential in (KEEP, None) else credential.pk
        swap = credential is not KEEP and new_credential_id != current.credential_id
        # Detach first: a destination cannot change while a credential is attached.
        if swap and current.credential_id:
            current = integration_detach_credential(integration=current, user=user)
        current = integration_update(integration=current, values=values, user=user)
        if swap and credential is not None:
            current = integration_attach_credential(
                integration=current, credential=credential, user=user
            )
        # Each step above counts a version; the request is one write, which m3ter counts once.
        if current.version != expected_version + 1:
            current.version = expected_version + 1
            current.save(update_fields=["version"])
    return current
