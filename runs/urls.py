from django.urls import path

from runs import views

app_name = "runs"

urlpatterns = [
    path("", views.run_list_view, name="list"),
    path("<uuid:run_id>/", views.run_detail_view, name="detail"),
    path("<uuid:run_id>/progress/", views.run_progress_view, name="progress"),
    path("<uuid:run_id>/retry/", views.run_retry_view, name="retry"),
    path("<uuid:run_id>/replay/", views.run_replay_view, name="replay"),
]
