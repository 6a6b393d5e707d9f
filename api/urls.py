"""m3ter's paths. Where two patterns could match one path (…/integrationruns/logs/{id} and
…/integrationruns/{entityType}/{entityId}), the literal one comes first."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import views
from api.preview import BillPreviewView

app_name = "api"

ORG = "organizations/<str:orgId>"

urlpatterns = [
    path("oauth/token", views.TokenView.as_view(), name="token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Integration configurations
    path(
        f"{ORG}/integrationconfigs",
        views.IntegrationConfigListView.as_view(),
        name="integration-list",
    ),
    path(
        f"{ORG}/integrationconfigs/entity/<str:entityType>",
        views.IntegrationConfigEntityView.as_view(),
        name="integration-entity",
    ),
    path(
        f"{ORG}/integrationconfigs/<str:id>",
        views.IntegrationConfigDetailView.as_view(),
        name="integration-detail",
    ),
    path(
        f"{ORG}/integrationconfigs/<str:id>/enable",
        views.IntegrationEnableView.as_view(),
        name="integration-enable",
    ),
    path(
        f"{ORG}/integrationconfigs/<str:id>/disable",
        views.IntegrationDisableView.as_view(),
        name="integration-disable",
    ),
    # Credentials
    path(
        f"{ORG}/integrationcredentials",
        views.CredentialListView.as_view(),
        name="credential-list",
    ),
    path(
        f"{ORG}/integrationcredentials/<str:id>",
        views.CredentialDetailView.as_view(),
        name="credential-detail",
    ),
    # External mappings
    path(
        f"{ORG}/externalmappings",
        views.ExternalMappingListView.as_view(),
        name="mapping-list",
    ),
    path(
        f"{ORG}/externalmappings/external/<str:entity>/<str:m3terId>",
        views.ExternalMappingsForM3terEntityView.as_view(),
        name="mapping-m3ter-entity",
    ),
    path(
        f"{ORG}/externalmappings/externalid/<str:system>/<str:externalTable>/<str:externalId>",
        views.ExternalMappingsForExternalEntityView.as_view(),
        name="mapping-external-entity",
    ),
    path(
        f"{ORG}/externalmappings/<str:id>",
        views.ExternalMappingDetailView.as_view(),
        name="mapping-detail",
    ),
    # Integration runs
    path(f"{ORG}/integrationruns", views.IntegrationRunListView.as_view(), name="run-list"),
    path(
        f"{ORG}/integrationruns/logs/<str:id>",
        views.IntegrationRunLogView.as_view(),
        name="run-log",
    ),
    path(
        f"{ORG}/integrationruns/destinations/<str:destinationId>",
        views.IntegrationRunsForDestinationView.as_view(),
        name="run-destination",
    ),
    path(
        f"{ORG}/integrationruns/<str:id>/retry",
        views.IntegrationRunRetryView.as_view(),
        name="run-retry",
    ),
    path(
        f"{ORG}/integrationruns/<str:id>/replay",
        views.IntegrationRunReplayView.as_view(),
        name="run-replay",
    ),
    path(
        f"{ORG}/integrationruns/<str:entityType>/latest",
        views.IntegrationRunLatestForIdsView.as_view(),
        name="run-latest-for-ids",
    ),
    path(
        f"{ORG}/integrationruns/<str:entityType>/latest/<str:id>",
        views.IntegrationRunLatestView.as_view(),
        name="run-latest",
    ),
    path(
        f"{ORG}/integrationruns/<str:entityType>/<str:entityId>",
        views.IntegrationRunsForEntityView.as_view(),
        name="run-entity",
    ),
    path(
        f"{ORG}/integrationruns/<str:id>",
        views.IntegrationRunDetailView.as_view(),
        name="run-detail",
    ),
    # Accounts and bills
    path(f"{ORG}/accounts", views.AccountListView.as_view(), name="account-list"),
    path(f"{ORG}/accounts/<str:id>", views.AccountDetailView.as_view(), name="account-detail"),
    path(f"{ORG}/bills", views.BillListView.as_view(), name="bill-list"),
    path(f"{ORG}/bills/<str:id>", views.BillDetailView.as_view(), name="bill-detail"),
    path(f"{ORG}/bills/<str:id>/preview", BillPreviewView.as_view(), name="bill-preview"),
]
