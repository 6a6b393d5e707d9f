from django.urls import path

from integrations import credential_views, event_views, views

app_name = "integrations"

urlpatterns = [
    path("", views.IntegrationListView.as_view(), name="list"),
    path("events/", event_views.event_list_view, name="events"),
    path("events/<uuid:pk>/action/", event_views.event_action_view, name="event_action"),
    path("create/", views.IntegrationCreateWizard.as_view(), name="create"),
    path("accounts/search/", views.AccountSearchView.as_view(), name="account_search"),
    path("filter/check/", views.FilterCheckView.as_view(), name="filter_check"),
    path("filter/test/", views.FilterTestView.as_view(), name="filter_test"),
    path("<uuid:pk>/", views.IntegrationDetailView.as_view(), name="detail"),
    path("<uuid:pk>/edit/", views.IntegrationEditView.as_view(), name="edit"),
    path("<uuid:pk>/delete/", views.IntegrationDeleteView.as_view(), name="delete"),
    path("<uuid:pk>/enable/", views.IntegrationEnableView.as_view(), name="enable"),
    path("<uuid:pk>/disable/", views.IntegrationDisableView.as_view(), name="disable"),
    path(
        "<uuid:pk>/credential/attach/",
        views.IntegrationAttachCredentialView.as_view(),
        name="attach_credential",
    ),
    path(
        "<uuid:pk>/credential/add/",
        credential_views.IntegrationCredentialAddView.as_view(),
        name="add_credential",
    ),
    path(
        "<uuid:pk>/credential/detach/",
        views.IntegrationDetachCredentialView.as_view(),
        name="detach_credential",
    ),
]
