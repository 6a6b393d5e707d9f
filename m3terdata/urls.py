from django.urls import path

app_name = "m3terdata"

urlpatterns: list = []
