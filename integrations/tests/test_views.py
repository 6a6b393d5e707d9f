import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.models import IntegrationConfiguration, SortLineItemsBy
from integrations.services import integration_disable
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory
from runs.models import IntegrationRun, RunStatus

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("admin:login")


def make_run(integration, status, minutes_ago):
    run = IntegrationRun.objects.create(
        integration=integration,
        integration_name=integration.name,
        destination=integration.destination,
        status=status,
    )
    created = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    IntegrationRun.objects.filter(pk=run.pk).update(created_at=created)
    return created


def page_text(response):
    return response.content.decode()


# --- Access --------------------------------------------------------------------------------------


def pages(integration):
    return [
        reverse("integrations:list"),
        reverse("integrations:create"),
        reverse("integrations:detail", args=[integration.pk]),
        reverse("integrations:edit", args=[integration.pk]),
        reverse("integrations:delete", args=[integration.pk]),
        reverse("integrations:account_search"),
        reverse("integrations:filter_check"),
        reverse("integrations:filter_test"),
    ]


ACTIONS = ["enable", "disable", "attach_credential", "detach_credential", "delete", "edit"]


def test_every_page_sends_anonymous_people_to_the_login_page(client):
    integration = IntegrationConfigurationFactory()
    for url in pages(integration):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(f"{LOGIN_URL}?next="), url


def test_a_signed_in_person_without_permissions_is_refused(client):
    client.force_login(User.objects.create_user("nobody"))
    integration = IntegrationConfigurationFactory()
    for url in pages(integration):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("action", ACTIONS)
def test_a_viewer_cannot_post_any_change(viewer_client, action):
    credential = IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory(credential=credential, name="Kept")
    response = viewer_client.post(
        reverse(f"integrations:{action}", args=[integration.pk]),
        {"credential": credential.pk, "name": "Changed", "version": integration.version},
    )
    assert response.status_code == 403
    integration.refresh_from_db()
    assert (integration.name, integration.credential, integration.enabled) == (
        "Kept",
        credential,
        True,
    )


def test_a_viewer_cannot_create(viewer_client):
    assert viewer_client.get(reverse("integrations:create")).status_code == 403
    response = viewer_client.post(reverse("integrations:create"), {})
    assert response.status_code == 403


def test_a_viewer_sees_the_pages_without_change_buttons(viewer_client):
    IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory()
    listing = page_text(viewer_client.get(reverse("integrations:list")))
    assert integration.name in listing
    assert "Create Integration" not in listing

    detail = page_text(viewer_client.get(reverse("integrations:detail", args=[integration.pk])))
    assert "Integration Details" in detail
    for button in (
        "Add Credential",
        ">Edit</a>",
        ">Disable</button>",
        ">Delete</button>",
        "Select One Integration Credential",
    ):
        assert button not in detail


def test_posts_need_the_csrf_token(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    integration = IntegrationConfigurationFactory()
    response = client.post(reverse("integrations:disable", args=[integration.pk]))
    assert response.status_code == 403
    integration.refresh_from_db()
    assert integration.enabled


def test_actions_only_answer_posts(editor_client):
    integration = IntegrationConfigurationFactory()
    response = editor_client.get(reverse("integrations:disable", args=[integration.pk]))
    assert response.status_code == 405


# --- Integration > Configurations ----------------------------------------------------------------


def test_list_shows_each_integration_with_its_last_run(editor_client):
    credential = IntegrationCredentialFactory(destination=Destination.PADDLE)
    connected = IntegrationConfigurationFactory(
        name="Production", destination=Destination.PADDLE, credential=credential
    )
    IntegrationConfigurationFactory(name="Sandbox", enabled=False)
    make_run(connected, RunStatus.ERROR, minutes_ago=60)
    latest = make_run(connected, RunStatus.COMPLETE, minutes_ago=5)

    response = editor_client.get(reverse("integrations:list"))
    text = page_text(response)
    assert "Integrations Configurations" in text
    assert "Create Integration" in text
    rows = {row.name: row for row in response.context["integrations"]}
    assert rows["Production"].last_run_status == RunStatus.COMPLETE
    assert rows["Production"].last_run_at == latest
    assert rows["Sandbox"].last_run_status is None
    # Worded as on the details page: one CONNECTED, the disabled one DISABLED (not also
    # NOT CONNECTED or a green CONNECTED beside it), and the last run's status in words.
    assert text.count(">CONNECTED<") == 1
    assert text.count(">DISABLED<") == 1
    assert "NOT CONNECTED" not in text
    assert ">Complete<" in text and ">COMPLETE<" not in text
    assert "No runs yet" in text
    # The ENTITY TYPE is the hotlink to the details page.
    detail_url = reverse("integrations:detail", args=[connected.pk])
    assert f'<a href="{detail_url}" class="fw-semibold">Bill</a>' in text


def test_list_queries_do_not_grow_with_rows(editor_client, django_assert_max_num_queries):
    for _ in range(3):
        integration = IntegrationConfigurationFactory(credential=IntegrationCredentialFactory())
        make_run(integration, RunStatus.COMPLETE, minutes_ago=1)
    with django_assert_max_num_queries(6) as few:
        editor_client.get(reverse("integrations:list"))
    for _ in range(10):
        integration = IntegrationConfigurationFactory(credential=IntegrationCredentialFactory())
        make_run(integration, RunStatus.COMPLETE, minutes_ago=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        editor_client.get(reverse("integrations:list"))


def test_list_is_paginated(editor_client):
    IntegrationConfigurationFactory.create_batch(27)
    first = editor_client.get(reverse("integrations:list"))
    assert len(first.context["integrations"]) == 25
    assert "Page 1 of 2" in page_text(first)
    second = editor_client.get(reverse("integrations:list"), {"page": 2})
    assert len(second.context["integrations"]) == 2


# --- The Create wizard ---------------------------------------------------------------------------

CREATE_URL = reverse("integrations:create")


def stage(client, step, data=None, back=None):
    payload = {"integration_create_wizard-current_step": step}
    payload.update({f"{step}-{key}": value for key, value in (data or {}).items()})
    if back:
        payload["wizard_goto_step"] = back
    return client.post(CREATE_URL, payload)


def through_stage_2(client, destination=Destination.PADDLE_SANDBOX):
    client.get(CREATE_URL)
    stage(client, "entity", {"entity_type": "Bill"})
    return stage(client, "destination", {"destination": destination})


def test_create_walks_the_three_stages_and_lands_on_the_details(editor_client, editor):
    first = editor_client.get(CREATE_URL)
    text = page_text(first)
    assert "Entity Type Settings" in text and "Select entity type" in text
    assert "Next" in text and "Back" not in text

    second = stage(editor_client, "entity", {"entity_type": "Bill"})
    assert "Destination Settings" in page_text(second)
    assert [s["done"] for s in second.context["stages"]] == [True, False, False]
    assert "Paddle (Sandbox Mode)" in page_text(second)

    third = stage(editor_client, "destination", {"destination": Destination.PADDLE})
    text = page_text(third)
    assert [s["done"] for s in third.context["stages"]] == [True, True, False]
    assert "Global Configuration" in text and "Entity Configuration" in text
    assert 'data-testid="chosen-destination">Paddle</dd>' in text
    assert 'data-testid="chosen-entity-type">Bill</dd>' in text
    assert "Create Integration" in text

    included, excluded = AccountFactory(), AccountFactory()
    done = stage(
        editor_client,
        "configure",
        {
            "name": "  Production Paddle ",
            "account_ids": [included.m3ter_id],
            "restricted_account_ids": [excluded.m3ter_id],
            "only_send_bill_on_approval": "on",
            "excluded_line_item_types": ["MINIMUM_SPEND", "AD_HOC"],
            "sort_line_items_by": SortLineItemsBy.SUBTOTAL,
            "account_filter": "currency == USD",
        },
    )
    integration = IntegrationConfiguration.objects.get()
    assert done.status_code == 302
    assert done.url == reverse("integrations:detail", args=[integration.pk])
    assert integration.name == "Production Paddle"
    assert integration.destination == Destination.PADDLE
    assert integration.account_ids == [included.m3ter_id]
    assert integration.restricted_account_ids == [excluded.m3ter_id]
    assert integration.only_send_bill_on_approval is True
    assert integration.use_external_mapping_account_code is False
    assert integration.excluded_line_item_types == ["MINIMUM_SPEND", "AD_HOC"]
    assert integration.sort_line_items_by == SortLineItemsBy.SUBTOTAL
    assert integration.account_filter == "currency == USD"
    assert integration.created_by == editor
    assert not integration.connected

    details = page_text(editor_client.get(done.url))
    assert "Add a credential to connect it to Paddle" in details


def test_stage_3_starts_with_the_guides_defaults(editor_client):
    form = through_stage_2(editor_client).context["form"]
    assert not form.is_bound
    assert form["only_send_bill_on_approval"].value() is None
    assert form["use_external_mapping_account_code"].value() is None
    assert form["excluded_line_item_types"].value() is None
    assert form["sort_line_items_by"].value() == SortLineItemsBy.NONE
    assert [label for _, label in form.fields["sort_line_items_by"].choices] == [
        "None",
        "Subtotal",
        "Aggregation ID",
    ]
    assert len(form.fields["excluded_line_item_types"].choices) == 19
    # The current guide marks Name required; every other setting on this stage is optional.
    assert [name for name, field in form.fields.items() if field.required] == ["name"]


def test_a_stage_must_be_answered_before_next(editor_client):
    editor_client.get(CREATE_URL)
    stage(editor_client, "entity", {"entity_type": "Bill"})
    response = stage(editor_client, "destination", {})
    assert "This field is required." in page_text(response)
    assert response.context["wizard"]["steps"].current == "destination"


def test_back_keeps_what_was_entered_on_every_stage(editor_client):
    account = AccountFactory(name="Globex", code="GLX")
    through_stage_2(editor_client, Destination.PADDLE)
    # Unfinished (no name yet) but typed: Back must not lose it.
    back = stage(
        editor_client,
        "configure",
        {"account_ids": [account.m3ter_id], "account_filter": "currency == EUR"},
        back="destination",
    )
    assert back.context["form"]["destination"].value() == Destination.PADDLE
    back = stage(editor_client, "destination", {"destination": Destination.PADDLE}, back="entity")
    assert back.context["form"]["entity_type"].value() == "Bill"

    stage(editor_client, "entity", {"entity_type": "Bill"})
    third = stage(editor_client, "destination", {"destination": Destination.PADDLE})
    form = third.context["form"]
    assert form["account_filter"].value() == "currency == EUR"
    assert form["account_ids"].value() == [account.m3ter_id]
    assert "Globex (GLX)" in page_text(third)
    assert not form.errors  # the unfinished stage comes back without complaints


def test_an_account_in_both_lists_is_refused_naming_it(editor_client):
    account = AccountFactory(name="Initech", code="INI")
    through_stage_2(editor_client)
    response = stage(
        editor_client,
        "configure",
        {
            "name": "Both",
            "account_ids": [account.m3ter_id],
            "restricted_account_ids": [account.m3ter_id],
            "sort_line_items_by": "NONE",
        },
    )
    errors = response.context["form"].errors["restricted_account_ids"]
    assert errors == [
        f"An account cannot be both included and excluded: Initech ({account.m3ter_id}). "
        "Remove it from Account Ids or from Restricted Account Ids."
    ]
    assert "Initech" in page_text(response)
    assert not IntegrationConfiguration.objects.exists()


def test_stage_3_shows_the_service_messages_on_their_fields(editor_client):
    through_stage_2(editor_client)
    response = stage(
        editor_client,
        "configure",
        {
            "name": "",
            "account_ids": ["no-such-account"],
            "sort_line_items_by": "NONE",
            "account_filter": "customFields.country = = UK",
        },
    )
    errors = response.context["form"].errors
    assert errors["name"] == ["Give the integration a name."]
    assert errors["account_ids"] == ["No account with id: no-such-account."]
    assert errors["account_filter"] == ["column 22: write '==' to compare (found '= =')"]
    assert not IntegrationConfiguration.objects.exists()


def test_create_validates_every_stage_again(editor_client):
    through_stage_2(editor_client)
    # The stored destination answer is tampered with after stage 2 was accepted.
    session = editor_client.session
    session["wizard_integration_create_wizard"]["step_data"]["destination"] = {
        "destination-destination": ["STRIPE"]
    }
    session.save()
    response = stage(editor_client, "configure", {"name": "X", "sort_line_items_by": "NONE"})
    assert response.status_code == 200
    assert "Destination must be one of: PADDLE, PADDLE_SANDBOX" in page_text(response)
    assert not IntegrationConfiguration.objects.exists()


# --- The details page and its actions ------------------------------------------------------------


def test_details_show_every_setting_the_warning_and_the_id(editor_client):
    included = AccountFactory(name="Acme", code="ACME")
    restricted = AccountFactory(name="Umbrella", code="UMB")
    integration = IntegrationConfigurationFactory(
        name="EU bills",
        account_ids=[included.m3ter_id],
        restricted_account_ids=[restricted.m3ter_id],
        use_external_mapping_account_code=True,
        excluded_line_item_types=["CREDIT_MEMO"],
        sort_line_items_by=SortLineItemsBy.AGGREGATION_ID,
        account_filter="address.country == DE",
    )
    text = page_text(editor_client.get(reverse("integrations:detail", args=[integration.pk])))
    for expected in (
        "Integration Details",
        "EU bills",
        "Paddle (Sandbox Mode)",
        "Acme (ACME)",
        "Umbrella (UMB)",
        "Credit memo",
        "Aggregation ID",
        "address.country == DE",
        "not connected to your Paddle (Sandbox Mode) system",
        f'data-testid="config-id">{integration.pk}</code>',
        "Copy ID",
        "Add Credential",
        "Select One Integration Credential",
    ):
        assert expected in text, expected
    assert "Update Credential" not in text and "Disconnect" not in text


def test_the_credential_modal_lists_only_credentials_for_the_destination(editor_client):
    sandbox = IntegrationCredentialFactory(name="Sandbox key")
    IntegrationCredentialFactory(name="Live key", destination=Destination.PADDLE)
    integration = IntegrationConfigurationFactory(destination=Destination.PADDLE_SANDBOX)
    response = editor_client.get(reverse("integrations:detail", args=[integration.pk]))
    text = page_text(response)
    assert "Sandbox key" in text and "Live key" not in text
    assert f"Sandbox key (API key {sandbox.api_key_hint})" in text
    assert f'value="{sandbox.pk}"' in text
    # Making a credential needs the credentials permission too (test_credential_views.py).
    assert 'data-testid="add-new-credential"' not in text


def test_attach_update_and_disconnect_a_credential(editor_client, editor):
    first, second = IntegrationCredentialFactory(name="Key A"), IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory()
    detail_url = reverse("integrations:detail", args=[integration.pk])
    attach_url = reverse("integrations:attach_credential", args=[integration.pk])

    response = editor_client.post(attach_url, {"credential": first.pk}, follow=True)
    assert response.redirect_chain == [(detail_url, 302)]
    text = page_text(response)
    assert 'data-testid="connection-status">CONNECTED' in text
    assert "Connected to Paddle (Sandbox Mode) with the credential “Key A”." in text
    assert "Update Credential" in text and "Disconnect" in text
    integration.refresh_from_db()
    assert integration.credential == first and integration.updated_by == editor

    editor_client.post(attach_url, {"credential": second.pk})
    integration.refresh_from_db()
    assert integration.credential == second

    response = editor_client.post(
        reverse("integrations:detach_credential", args=[integration.pk]), follow=True
    )
    integration.refresh_from_db()
    assert integration.credential is None
    assert "Disconnected" in page_text(response)
    assert "Add Credential" in page_text(response)


def test_a_credential_for_the_other_destination_is_refused(editor_client):
    live = IntegrationCredentialFactory(destination=Destination.PADDLE)
    integration = IntegrationConfigurationFactory(destination=Destination.PADDLE_SANDBOX)
    response = editor_client.post(
        reverse("integrations:attach_credential", args=[integration.pk]),
        {"credential": live.pk},
        follow=True,
    )
    assert "That credential is not available for this integration" in page_text(response)
    integration.refresh_from_db()
    assert integration.credential is None


def test_confirm_without_a_choice_says_to_select_one(editor_client):
    integration = IntegrationConfigurationFactory()
    response = editor_client.post(
        reverse("integrations:attach_credential", args=[integration.pk]), {}, follow=True
    )
    assert "Select a credential." in page_text(response)


def test_disable_and_enable(editor_client):
    integration = IntegrationConfigurationFactory()
    response = editor_client.post(
        reverse("integrations:disable", args=[integration.pk]), follow=True
    )
    integration.refresh_from_db()
    assert not integration.enabled
    assert integration.disabled_reason == "Disabled by editor."
    assert "This integration is disabled" in page_text(response)
    assert ">Enable</button>" in page_text(response)

    editor_client.post(reverse("integrations:enable", args=[integration.pk]))
    integration.refresh_from_db()
    assert integration.enabled and integration.disabled_reason == ""


def test_delete_asks_then_deletes_and_keeps_the_runs(editor_client):
    integration = IntegrationConfigurationFactory(name="Old one")
    make_run(integration, RunStatus.COMPLETE, minutes_ago=1)
    url = reverse("integrations:delete", args=[integration.pk])
    confirm = page_text(editor_client.get(url))
    assert "Delete “Old one”?" in confirm and "1 integration run stay" in confirm
    assert IntegrationConfiguration.objects.exists()

    response = editor_client.post(url, follow=True)
    assert response.redirect_chain == [(reverse("integrations:list"), 302)]
    assert "Deleted the integration “Old one”" in page_text(response)
    assert not IntegrationConfiguration.objects.exists()
    run = IntegrationRun.objects.get()
    assert run.integration is None and run.integration_name == "Old one"


# --- Edit ----------------------------------------------------------------------------------------


def edit_data(integration, **changes):
    data = {
        "name": integration.name,
        "sort_line_items_by": integration.sort_line_items_by,
        "account_filter": integration.account_filter,
        "version": integration.version,
    }
    data.update(changes)
    return data


def test_edit_shows_the_values_and_saves_a_change(editor_client):
    integration = IntegrationConfigurationFactory(
        name="Before", account_filter="currency == USD", destination=Destination.PADDLE
    )
    url = reverse("integrations:edit", args=[integration.pk])
    form = editor_client.get(url).context["form"]
    assert form["name"].value() == "Before"
    assert form["account_filter"].value() == "currency == USD"
    assert form.destination_label == "Paddle"

    response = editor_client.post(
        url, edit_data(integration, name="After", use_external_mapping_account_code="on")
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.name == "After"
    assert integration.use_external_mapping_account_code is True
    assert integration.version == 2
    assert integration.destination == Destination.PADDLE


def test_edit_shows_and_saves_the_invoice_configuration(editor_client):
    integration = IntegrationConfigurationFactory(tax_mode="ACCOUNT_SETTING")
    url = reverse("integrations:edit", args=[integration.pk])
    form = editor_client.get(url).context["form"]
    assert form["tax_mode"].value() == "ACCOUNT_SETTING"
    assert form["tax_number_field"].value() == "taxNumber"

    response = editor_client.post(
        url,
        edit_data(
            integration,
            tax_mode="INTERNAL",
            tax_category="saas",
            negative_line_items="CREDIT",
            business_name_field="legalName",
            tax_number_field="",
        ),
    )

    assert response.status_code == 302
    integration.refresh_from_db()
    assert (integration.tax_mode, integration.tax_category) == ("INTERNAL", "saas")
    assert integration.negative_line_items == "CREDIT"
    assert (integration.business_name_field, integration.tax_number_field) == ("legalName", "")
    detail = page_text(editor_client.get(reverse("integrations:detail", args=[integration.pk])))
    assert "Internal: m3ter amounts include tax" in detail
    assert "Send them as one credit" in detail


def test_edit_applies_the_same_validation(editor_client):
    account = AccountFactory(name="Hooli", code="HOO")
    integration = IntegrationConfigurationFactory()
    response = editor_client.post(
        reverse("integrations:edit", args=[integration.pk]),
        edit_data(
            integration,
            account_ids=[account.m3ter_id],
            restricted_account_ids=[account.m3ter_id],
            account_filter="accountName ==",
        ),
    )
    errors = response.context["form"].errors
    assert "Hooli" in errors["restricted_account_ids"][0]
    assert errors["account_filter"] == ["column 15: expected a value after '=='"]
    integration.refresh_from_db()
    assert integration.account_ids == []


def test_edit_refuses_a_stale_copy(editor_client):
    integration = IntegrationConfigurationFactory(name="Mine")
    stale = edit_data(integration, name="Overwrite")
    IntegrationConfiguration.objects.filter(pk=integration.pk).update(version=5)
    response = editor_client.post(reverse("integrations:edit", args=[integration.pk]), stale)
    assert "changed by someone else" in page_text(response)
    integration.refresh_from_db()
    assert integration.name == "Mine"


# --- JSON endpoints ------------------------------------------------------------------------------


def test_account_search_pages_through_matches(viewer_client):
    for n in range(45):
        AccountFactory(name=f"Customer {n:02d}", code=f"C{n:02d}")
    AccountFactory(name="Other", code="ZZZ")
    url = reverse("integrations:account_search")

    first = viewer_client.get(url, {"q": "customer"}).json()
    assert len(first["results"]) == 20 and first["has_more"] is True
    assert first["results"][0]["label"] == "Customer 00 (C00)"
    last = viewer_client.get(url, {"q": "customer", "page": 3}).json()
    assert [r["label"] for r in last["results"]] == [f"Customer {n} (C{n})" for n in range(40, 45)]
    assert last["has_more"] is False

    by_code = viewer_client.get(url, {"q": "zzz"}).json()["results"]
    assert [r["label"] for r in by_code] == ["Other (ZZZ)"]
    assert viewer_client.get(url, {"page": "junk"}).json()["page"] == 1


def test_filter_check_gives_the_error_and_its_column(viewer_client):
    url = reverse("integrations:filter_check")
    answer = viewer_client.get(url, {"account_filter": "customFields.country = = UK"}).json()
    assert answer == {
        "ok": False,
        "error": "column 22: write '==' to compare (found '= =')",
        "message": "write '==' to compare (found '= =')",
        "column": 22,
    }


def test_filter_check_and_test_count_matching_accounts(viewer_client):
    AccountFactory(name="Brit 1", custom_fields={"country": "UK"})
    AccountFactory(name="Brit 2", custom_fields={"country": "UK"})
    AccountFactory(name="Yank", custom_fields={"country": "US"})
    AccountFactory(name="Plain")
    text = "customFields != null AND customFields.country == UK"

    check = viewer_client.get(reverse("integrations:filter_check"), {"account_filter": text})
    assert check.json()["ok"] is True
    assert (check.json()["matched"], check.json()["total"]) == (2, 4)
    assert check.json()["sample"] == []
    assert check.json()["summary"] == "Valid filter: matches 2 of 4 accounts."

    tested = viewer_client.get(reverse("integrations:filter_test"), {"account_filter": text})
    assert [a["label"].split(" (")[0] for a in tested.json()["sample"]] == ["Brit 1", "Brit 2"]

    empty = viewer_client.get(reverse("integrations:filter_check"), {"account_filter": " "})
    assert empty.json()["summary"] == "No filter: the integration runs for all 4 accounts."


@pytest.mark.parametrize("name", ["integrations:filter_check", "integrations:filter_test"])
def test_filter_check_explains_a_hostile_filter(viewer_client, name):
    text = "(" * 300 + "name == x" + ")" * 300

    response = viewer_client.get(reverse(name), {"account_filter": text})

    assert response.status_code == 200
    assert response.json()["ok"] is False and "nest more than 32" in response.json()["error"]


def test_account_search_past_every_page_is_an_empty_page(viewer_client):
    response = viewer_client.get(reverse("integrations:account_search"), {"page": "9" * 40})

    assert response.status_code == 200 and response.json()["results"] == []


def test_the_delete_confirmation_says_exactly_what_goes_and_what_stays(editor_client):
    from m3terdata.tests.factories import ExternalMappingFactory
    from runs.tests.factories import DeliveryFactory

    integration = IntegrationConfigurationFactory(name="Old one")
    make_run(integration, RunStatus.COMPLETE, minutes_ago=1)
    DeliveryFactory.create_batch(2, integration=integration)
    ExternalMappingFactory.create_batch(3, integration=integration)

    for url in (
        reverse("integrations:delete", args=[integration.pk]),
        reverse("integrations:detail", args=[integration.pk]),
    ):
        text = page_text(editor_client.get(url))
        assert "Its 2 delivery records (which Paddle transaction each bill became) are deleted" in text
        assert "the transactions stay in Paddle" in text
        assert "Its 1 integration run stays on the Runs page" in text
        assert "Its 3 external mappings (accounts' Paddle customers and addresses) are kept" in text


@pytest.mark.parametrize(
    "account_filter", ["(" * 300 + "currency == USD" + ")" * 300, "NOT " * 500 + "currency == USD"]
)
def test_edit_explains_an_overnested_filter(editor_client, account_filter):
    integration = IntegrationConfigurationFactory()

    response = editor_client.post(
        reverse("integrations:edit", args=[integration.pk]),
        edit_data(integration, account_filter=account_filter),
    )

    assert response.status_code == 200
    assert "nest more than 32 deep" in response.context["form"].errors["account_filter"][0]


def test_edit_shows_the_guides_constraints_and_sets_the_notification_users(editor_client):
    User.objects.create_user("ops", email="ops@example.com")
    User.objects.create_user("nomail")  # cannot be e-mailed, so not offered
    integration = IntegrationConfigurationFactory()
    url = reverse("integrations:edit", args=[integration.pk])

    response = editor_client.get(url)
    text = page_text(response)
    assert "Constraints on Paddle Integrations" in text
    assert "Values with more than 2 decimal places are rounded" in text
    assert "Integration disabled notification users" in text
    offered = [c[0] for c in response.context["form"].fields["users_to_notify"].choices]
    assert [str(value) for value in offered] == ["ops"]

    editor_client.post(url, edit_data(integration, users_to_notify=["ops"]))

    assert [u.username for u in integration.users_to_notify.all()] == ["ops"]
    form = editor_client.get(url).context["form"]
    assert form["users_to_notify"].value() == ["ops"]
    detail = page_text(editor_client.get(reverse("integrations:detail", args=[integration.pk])))
    assert 'data-testid="notification-users">ops</dd>' in detail


def test_an_integration_the_hub_disabled_shows_disabled_what_to_do_and_who_changed_it(
    editor_client,
):
    integration = IntegrationConfigurationFactory(
        credential=IntegrationCredentialFactory(destination=Destination.PADDLE_SANDBOX)
    )
    integration.consecutive_auth_failures = 3
    integration.save()
    integration_disable(integration=integration, reason="Paddle refused its credential 3 times.")

    text = page_text(editor_client.get(reverse("integrations:detail", args=[integration.pk])))

    assert ">DISABLED<" in text and ">CONNECTED<" not in text
    assert 'class="alert alert-warning" role="alert" data-testid="disabled-warning"' in text
    assert "What to do: Attach a working Paddle API key (Update Credential)" in text
    assert "by the hub (automatically)" in text
