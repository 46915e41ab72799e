from django.urls import path

from . import views

app_name = "health"
urlpatterns = [
    path("tasks/", views.inbox, name="inbox"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/snooze/", views.task_snooze, name="task_snooze"),
    path("tasks/<int:pk>/reassign/", views.task_reassign, name="task_reassign"),
    path("health/accounts/<int:pk>/tasks/", views.task_create, name="task_create"),
    path("health/accounts/<int:pk>/playbook/", views.playbook_apply, name="playbook_apply"),
    path("health/accounts/<int:pk>/playbooks/", views.playbook_menu, name="playbook_menu"),
    path("health/alerts/<int:pk>/snooze/", views.alert_snooze, name="alert_snooze"),
    path("health/alerts/<int:pk>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("health/alerts/<int:pk>/reopen/", views.alert_reopen, name="alert_reopen"),
    path("health/backtest/", views.backtest, name="backtest"),
]
