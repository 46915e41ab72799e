app_name = "team"
urlpatterns = []
