"""URLs that fail as an outage does and as a bug does, for the error page tests."""

import django.db
from django.urls import include, path


def database_down(request):
    raise django.db.OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def bug(request):
    raise RuntimeError("a programming error")


urlpatterns = [path("boom/", database_down), path("bug/", bug), path("", include("config.urls"))]
