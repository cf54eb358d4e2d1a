"""A URL that fails as an outage does, for the error page tests."""

import django.db
from django.urls import include, path


def database_down(request):
    raise django.db.OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


urlpatterns = [path("boom/", database_down), path("", include("config.urls"))]
