"""/api/v1/imports/: upload an export, follow its progress, read its report."""

from django.urls import path

from testimonials.imports import api

urlpatterns = [
    path("", api.ImportListApi.as_view(), name="api-import-list"),
    path("<str:public_id>/", api.ImportDetailApi.as_view(), name="api-import-detail"),
    path("<str:public_id>/rows/", api.ImportRowListApi.as_view(), name="api-import-rows"),
]
