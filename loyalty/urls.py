from django.urls import path

from . import views

app_name = "loyalty"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("accounts/<int:pk>/", views.account_points, name="account"),
    path("accounts/<int:pk>/redeem/", views.redemption_create, name="redeem"),
    path("accounts/<int:pk>/adjust/", views.points_adjust, name="adjust"),
    path("accounts/<int:pk>/links/", views.link_create, name="link_create"),
    path("redemptions/", views.redemption_list, name="redemptions"),
    path("redemptions/<int:pk>/", views.redemption_detail, name="redemption"),
    path("rewards/", views.reward_list, name="rewards"),
    path("referrals/", views.referral_list, name="referrals"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral"),
    path("advocacy/", views.advocacy, name="advocacy"),
    path("advocacy/<int:pk>/", views.ask_update, name="ask_update"),
]
