from django.urls import path

from . import views

app_name = "onboarding"
urlpatterns = [
    path("", views.board, name="board"),
    path("accounts/<int:pk>/", views.plan, name="plan"),
    path("accounts/<int:pk>/start/", views.plan_start, name="start"),
    path("accounts/<int:pk>/template/", views.plan_switch, name="switch"),
    path("accounts/<int:pk>/shift/", views.plan_shift, name="shift"),
    path("accounts/<int:pk>/delete/", views.plan_delete, name="delete"),
    path("accounts/<int:pk>/expectations/", views.expectations, name="expectations"),
    path("accounts/<int:pk>/milestones/", views.milestone_add, name="milestone_add"),
    path("accounts/<int:pk>/criteria/", views.criterion_add, name="criterion_add"),
    path("accounts/<int:pk>/criteria/review/", views.criteria_review, name="criteria_review"),
    path("accounts/<int:pk>/share/", views.share_create, name="share_create"),
    path("share/<int:pk>/revoke/", views.share_revoke, name="share_revoke"),
    path("milestones/<int:pk>/", views.milestone_row, name="milestone"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    path("milestones/<int:pk>/status/", views.milestone_status, name="milestone_status"),
    path("milestones/<int:pk>/move/", views.milestone_move, name="milestone_move"),
    path("milestones/<int:pk>/remove/", views.milestone_remove, name="milestone_remove"),
    path("criteria/<int:pk>/edit/", views.criterion_edit, name="criterion_edit"),
    path("criteria/<int:pk>/remove/", views.criterion_remove, name="criterion_remove"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_detail, name="template"),
    path("templates/<int:pk>/milestones/", views.template_milestone_add, name="tmilestone_add"),
    path("template-milestones/<int:pk>/edit/", views.template_milestone_edit, name="tmilestone_edit"),
    path("template-milestones/<int:pk>/move/", views.template_milestone_move, name="tmilestone_move"),
    path("template-milestones/<int:pk>/remove/", views.template_milestone_remove, name="tmilestone_remove"),
    # The customer's read-only page: no login, an unguessable link.
    path("shared/<str:token>/", views.shared_plan, name="shared"),
]
