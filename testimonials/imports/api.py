"""Imports through the API: upload a file with a preset, follow its progress, read its per-row report."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from testimonials.api.auth import api_brands
from testimonials.api.pagination import ByNumber, NewestFirst
from testimonials.api.serializers import BrandFilter, StrictInput
from testimonials.api.views import brand_for, id_param
from testimonials.imports import presets, services
from testimonials.imports.models import ReviewImport, ReviewImportRow


class ImportJobOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    brand = serializers.CharField(source="brand.slug")
    preset = serializers.ChoiceField(choices=presets.CHOICES)
    percent = serializers.IntegerField(help_text="Progress, 0 to 100.")

    class Meta:
        model = ReviewImport
        fields = [
            "id", "brand", "preset", "file_name", "status", "percent", "total_rows", "processed_rows",
            "created_count", "duplicate_count", "error_count", "fetch_media", "error", "created_at", "started_at",
            "finished_at",
        ]  # fmt: skip


class ImportJobInput(StrictInput):
    brand = serializers.SlugField(required=False, help_text="Needed only when the caller has several brands.")
    preset = serializers.ChoiceField(choices=presets.CHOICES)
    file = serializers.FileField(help_text="The platform's export (CSV or JSON, as the preset says).")
    fetch_media = serializers.BooleanField(
        default=False, help_text="Fetch photos and videos listed by URL (only where the operator allows it)."
    )


class ImportRowOutput(serializers.ModelSerializer):
    testimonial = serializers.CharField(source="testimonial.public_id", default=None, allow_null=True)

    class Meta:
        model = ReviewImportRow
        fields = ["number", "status", "message", "testimonial"]


def _job_for(request, public_id: str) -> ReviewImport:
    return get_object_or_404(
        ReviewImport.objects.select_related("brand"), brand__in=api_brands(request), public_id=public_id
    )


class ImportListApi(generics.ListAPIView):
    serializer_class = ImportJobOutput
    pagination_class = NewestFirst
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        wanted = BrandFilter(data=self.request.query_params)
        wanted.is_valid(raise_exception=True)
        brand = brand_for(self.request, wanted.validated_data.get("brand"))
        return ReviewImport.objects.filter(brand=brand).select_related("brand")

    @extend_schema(operation_id="imports_list", parameters=[BrandFilter], tags=["imports"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="imports_create",
        request={"multipart/form-data": ImportJobInput},
        responses={202: ImportJobOutput},
        tags=["imports"],
        description="Import another platform's export in the background (editors and owners). Each review is "
        "badged 'Imported from <platform>', keeps its original date and link, is never verified, and is "
        "moderated like any testimonial. Uploading the same file again imports nothing twice.",
    )
    def post(self, request, *args, **kwargs):
        # Counted while the body streams in (LimitedUploadHandler); a file in any other field is refused.
        request._request.upload_limits = {"file": settings.VOUCH_IMPORT_MAX_BYTES}
        data = ImportJobInput(data=request.data, context={"body": True})
        refused = getattr(request, "upload_refusals", {}) or {}
        if refused:
            raise ValidationError(
                {name if name != "__all__" else "file": [message] for name, message in refused.items()}
            )
        data.is_valid(raise_exception=True)
        wanted = data.validated_data
        upload = wanted["file"]
        job = services.import_job_create(
            brand=brand_for(request, wanted.get("brand")),
            actor=request.user,
            preset=wanted["preset"],
            upload=upload,
            file_name=upload.name,
            fetch_media=wanted["fetch_media"],
        )
        return Response(ImportJobOutput(_job_for(request, job.public_id)).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(generics.RetrieveAPIView):
    serializer_class = ImportJobOutput

    def get_object(self):
        return _job_for(self.request, self.kwargs["public_id"])

    @extend_schema(operation_id="imports_retrieve", parameters=[id_param()], tags=["imports"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ImportRowListApi(generics.ListAPIView):
    serializer_class = ImportRowOutput
    pagination_class = ByNumber

    def get_queryset(self):
        job = _job_for(self.request, self.kwargs["public_id"])
        return ReviewImportRow.objects.filter(job=job).select_related("testimonial")

    @extend_schema(
        operation_id="imports_rows_list",
        parameters=[id_param()],
        tags=["imports"],
        description="The report: what happened to each row of the file, in file order.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
