from django.conf import settings


def platform(request):
    return {"REPORTING_CURRENCY": settings.REPORTING_CURRENCY}
