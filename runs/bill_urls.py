from django.urls import path

from runs import bill_views as views

# The bill pages kept their m3terdata namespace when they moved here, so every link still works.
app_name = "m3terdata"

urlpatterns = [
    path("bills/", views.bill_list_view, name="bill_list"),
    path("bills/backfill/", views.backfill_view, name="backfill"),
    path("bills/<str:m3ter_id>/", views.bill_detail_view, name="bill_detail"),
    path("bills/<str:m3ter_id>/send-again/", views.bill_send_again_view, name="bill_send_again"),
]
