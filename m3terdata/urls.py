app_name = "m3terdata"

urlpatterns: list = []
