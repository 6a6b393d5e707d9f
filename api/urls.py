"""m3ter's paths. Where two patterns could match one path (…/integrationruns/logs/{id} and
…/integrationruns/{entityType}/{entityId}), the literal one comes first."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.views import (
    accounts_bills,
    auth,
    bill_preview,
    common,
    credentials,
    deliveries,
    events,
    external_mappings,
    integrations,
    runs,
)

app_name = "api"

ORG = "organizations/<str:orgId>"

urlpatterns = [
    path("oauth/token", auth.TokenView.as_view(), name="token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Integration configurations
    path(
        f"{ORG}/integrationconfigs",
        integrations.IntegrationConfigListView.as_view(),
        name="integration-list",
    ),
    path(
        f"{ORG}/integrationconfigs/entity/<str:entityType>",
        integrations.IntegrationConfigEntityView.as_view(),
        name="integration-entity",
    ),
    path(
        f"{ORG}/integrationconfigs/<str:id>",
        integrations.IntegrationConfigDetailView.as_view(),
        name="integration-detail",
    ),
    path(
        f"{ORG}/integrationconfigs/<str:id>/enable",
        integrations.IntegrationEnableView.as_view(),
        name="integration-enable",
    ),
    path(
        f"{ORG}/integrationconfigs/<str:id>/disable",
        integrations.IntegrationDisableView.as_view(),
        name="integration-disable",
    ),
    # Credentials
    path(
        f"{ORG}/integrationcredentials",
        credentials.CredentialListView.as_view(),
        name="credential-list",
    ),
    path(
        f"{ORG}/integrationcredentials/<str:id>",
        credentials.CredentialDetailView.as_view(),
        name="credential-detail",
    ),
    # External mappings
    path(
        f"{ORG}/externalmappings",
        external_mappings.ExternalMappingListView.as_view(),
        name="mapping-list",
    ),
    path(
        f"{ORG}/externalmappings/external/<str:entity>/<str:m3terId>",
        external_mappings.ExternalMappingsForM3terEntityView.as_view(),
        name="mapping-m3ter-entity",
    ),
    path(
        f"{ORG}/externalmappings/externalid/<str:system>/<str:externalTable>/<str:externalId>",
        external_mappings.ExternalMappingsForExternalEntityView.as_view(),
        name="mapping-external-entity",
    ),
    path(
        f"{ORG}/externalmappings/<str:id>",
        external_mappings.ExternalMappingDetailView.as_view(),
        name="mapping-detail",
    ),
    # The hub's Paddle invoices, by status
    path(f"{ORG}/paddleinvoices", deliveries.DeliveryListView.as_view(), name="delivery-list"),
    # Integration runs
    path(f"{ORG}/integrationruns", runs.IntegrationRunListView.as_view(), name="run-list"),
    path(
        f"{ORG}/integrationruns/logs/<str:id>",
        runs.IntegrationRunLogView.as_view(),
        name="run-log",
    ),
    path(
        f"{ORG}/integrationruns/destinations/<str:destinationId>",
        runs.IntegrationRunsForDestinationView.as_view(),
        name="run-destination",
    ),
    path(
        f"{ORG}/integrationruns/<str:id>/retry",
        runs.IntegrationRunRetryView.as_view(),
        name="run-retry",
    ),
    path(
        f"{ORG}/integrationruns/<str:id>/replay",
        runs.IntegrationRunReplayView.as_view(),
        name="run-replay",
    ),
    path(
        f"{ORG}/integrationruns/<str:entityType>/latest",
        runs.IntegrationRunLatestForIdsView.as_view(),
        name="run-latest-for-ids",
    ),
    path(
        f"{ORG}/integrationruns/<str:entityType>/latest/<str:id>",
        runs.IntegrationRunLatestView.as_view(),
        name="run-latest",
    ),
    path(
        f"{ORG}/integrationruns/<str:entityType>/<str:entityId>",
        runs.IntegrationRunsForEntityView.as_view(),
        name="run-entity",
    ),
    path(
        f"{ORG}/integrationruns/<str:id>",
        runs.IntegrationRunDetailView.as_view(),
        name="run-detail",
    ),
    # Events (the integration events)
    path(f"{ORG}/events", events.EventListView.as_view(), name="event-list"),
    path(f"{ORG}/events/types", events.EventTypesView.as_view(), name="event-types"),
    path(f"{ORG}/events/<str:id>", events.EventDetailView.as_view(), name="event-detail"),
    path(f"{ORG}/events/<str:id>/action", events.EventActionView.as_view(), name="event-action"),
    # Accounts and bills
    path(f"{ORG}/accounts", accounts_bills.AccountListView.as_view(), name="account-list"),
    path(
        f"{ORG}/accounts/search",
        accounts_bills.AccountSearchView.as_view(),
        name="account-search",
    ),
    path(
        f"{ORG}/accounts/<str:id>",
        accounts_bills.AccountDetailView.as_view(),
        name="account-detail",
    ),
    path(f"{ORG}/bills", accounts_bills.BillListView.as_view(), name="bill-list"),
    path(f"{ORG}/bills/search", accounts_bills.BillSearchView.as_view(), name="bill-search"),
    path(f"{ORG}/bills/<str:id>", accounts_bills.BillDetailView.as_view(), name="bill-detail"),
    path(
        f"{ORG}/bills/<str:id>/preview",
        bill_preview.BillPreviewView.as_view(),
        name="bill-preview",
    ),
    # Last: any other path of m3ter's answers m3ter's JSON error, not Django's HTML page.
    re_path(r"^organizations/", common.unknown_path, name="unknown"),
]
