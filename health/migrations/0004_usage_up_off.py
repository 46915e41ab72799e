"""The alert rules' help text says what N means for every kind; and 'Usage up 50%' opened an alert for one account in six on realistic data (a new account ramping
up, a noisy small one): off by default, like the other rules that repeat what the score says."""

from django.db import migrations, models


def switch_off(apps, schema_editor):
    apps.get_model("health", "AlertRule").objects.filter(name="Usage up 50%").update(
        is_active=False,
        description=(
            "Off by default: on real data many accounts grow 50% in a month (onboarding, seasonality). "
            "Turn on, or raise N, to route growing accounts to expansion conversations."
        ),
    )


class Migration(migrations.Migration):
    dependencies = [("health", "0003_scorecard_versions")]

    operations = [
        migrations.RunPython(switch_off, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='alertrule',
            name='kind',
            field=models.CharField(choices=[('grade_drop', 'Score fell into a worse grade'), ('score_drop', 'Score dropped by N points in 7 days'), ('usage_drop', 'Usage fell by N % week over week'), ('detractor', 'Detractor answer'), ('renewal_risk', 'Renewal within N days while not green'), ('onboarding_overdue', 'Onboarding milestone overdue'), ('no_touch', 'No touchpoint for N days'), ('promoter', 'Promoter answer (opportunity)'), ('usage_up', 'Usage up by N % (opportunity)')], help_text="What N means for each kind — Score fell into a worse grade: no N; set the grade (the rule fires when the account's grade becomes that grade or worse, from a better one or from no score). Score dropped: N points lost against the score 7 days before. Usage fell: N % fewer events in the last 7 days than the 7 before (needs at least 5 events the week before). Detractor / promoter answer: an answer in the last N days (once per answer). Renewal: renewal date within N days and the grade is not green. Onboarding: any milestone overdue. No touchpoint: N days or more since the last one (or since the contract started). Usage up: N % more events in the last 30 days than the 30 before (with at least 20 events the 30 days before).", max_length=30, verbose_name='kind'),
        ),
    ]
