from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/side/", views.account_side, name="side"),
    path("<int:pk>/timeline/", views.account_timeline, name="timeline"),
    path("<int:pk>/touchpoints/", views.touchpoint_create, name="touchpoint_create"),
    path("<int:pk>/owner/", views.account_reassign, name="reassign"),
]
