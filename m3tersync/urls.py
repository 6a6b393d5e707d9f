from django.urls import path

from m3tersync import views

app_name = "m3tersync"

urlpatterns = [
    path("pulls/", views.pull_list, name="pulls"),
    path("connections/<uuid:connection_id>/pull/", views.pull_now, name="pull-now"),
    path("webhooks/<uuid:connection_id>/", views.webhook_receive, name="webhook"),
]
