from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("leadership/", views.leadership, name="leadership"),
    path("leadership/cohorts/", views.cohorts, name="cohorts"),
    path("leadership/accounts/", views.drilldown, name="drilldown"),
    path("renewals/", views.renewals, name="renewals"),
]
