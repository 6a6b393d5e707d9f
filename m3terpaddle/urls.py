from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "m3terpaddle"
admin.site.site_title = "m3terpaddle admin"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="integrations:list", permanent=False)),
    path("admin/", admin.site.urls),
    path("integrations/", include("integrations.urls")),
    path("runs/", include("runs.urls")),
    path("data/", include("runs.bill_urls")),
    path("m3ter/", include("m3tersync.urls")),
    path("status/", include("ops.urls")),
    path("paddle/", include("paddle_destination.urls")),
    path("", include("api.urls")),
]
