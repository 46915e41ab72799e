from django.urls import path

from . import views

app_name = "feedback"
urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/progress/", views.campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/invitations/", views.campaign_invitations, name="campaign_invitations"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("campaigns/<int:pk>/pause/", views.campaign_pause, name="campaign_pause"),
    path("campaigns/<int:pk>/resume/", views.campaign_resume, name="campaign_resume"),
    path("campaigns/<int:pk>/cancel/", views.campaign_cancel, name="campaign_cancel"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign_delete"),
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<int:pk>/preview/", views.survey_preview, name="survey_preview"),
    path("analysis/", views.analysis, name="analysis"),
    path("comments/", views.comments, name="comments"),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:pk>/close/", views.follow_up_close, name="follow_up_close"),
    path("accounts/<int:pk>/", views.account_answers, name="account_answers"),
    path("suppressions/", views.suppression_list, name="suppression_list"),
    path("suppressions/<int:pk>/remove/", views.suppression_remove, name="suppression_remove"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/", views.outbox_message, name="outbox_message"),
    path("outbox/<int:pk>/html/", views.outbox_message_html, name="outbox_message_html"),
]
