"""Create the nightly planning schedule in django-celery-beat's tables (editable in admin)."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Nightly planning pipeline"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=TASK_NAME).exists():
        return
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour=str(getattr(settings, "NIGHTLY_PIPELINE_HOUR", 2)), day_of_week="*", day_of_month="*",
        month_of_year="*", timezone=settings.TIME_ZONE)
    PeriodicTask.objects.create(name=TASK_NAME, task="planning.nightly", crontab=schedule, enabled=True,
                                description="Forecast every series, then reconcile demand against capacity.")


def drop_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("forecasting", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedule, drop_schedule)]
