from django.urls import path

from paddle_destination import views

app_name = "paddle_destination"

urlpatterns = [
    path("webhooks/<uuid:credential_id>/", views.webhook_receive, name="webhook"),
]
