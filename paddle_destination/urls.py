from django.urls import path

from paddle_destination import views

app_name = "paddle_destination"

urlpatterns = [
    path("webhooks/<uuid:credential_id>/", views.webhook_receive, name="webhook"),
    path(
        "bills/<str:m3ter_id>/preview/<uuid:integration_id>/",
        views.bill_preview_view,
        name="bill_preview",
    ),
]
