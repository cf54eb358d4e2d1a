"""/api/v1/imports/: upload an export, follow its progress, read its report."""

from django.urls import path

import testimonials.api.urls  # noqa: F401  (registers the pid path converter)
from testimonials.imports import api

urlpatterns = [
    path("", api.ImportListApi.as_view(), name="api-import-list"),
    path("<pid:public_id>/", api.ImportDetailApi.as_view(), name="api-import-detail"),
    path("<pid:public_id>/rows/", api.ImportRowListApi.as_view(), name="api-import-rows"),
]
