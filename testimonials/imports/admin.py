"""Imports in the admin: upload an export with its preset, watch the progress bar, read the report per
row (and download it as CSV). A brand's owners also download the brand's full export from the brand list."""

from __future__ import annotations

import csv
import tempfile

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from testimonials.admin.brands import BrandAdmin
from testimonials.admin.scoping import BrandScopedAdmin, ReadOnlyMixin, ScopedModelForm, roles_for
from testimonials.errors import ApplicationError
from testimonials.imports import presets, services
from testimonials.imports.models import ReviewImport, ReviewImportRow
from testimonials.imports.portability import brand_export
from testimonials.models import Membership

REPORT_ROWS_SHOWN = 200


class ReviewImportForm(ScopedModelForm):
    preset = forms.ChoiceField(choices=presets.CHOICES, help_text="Where the file comes from (docs/integrations.md).")
    upload = forms.FileField(label="File", help_text="The platform's CSV or JSON export, as it downloaded.")

    class Meta:
        model = ReviewImport
        fields = ["brand", "preset", "fetch_media"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.VOUCH_IMPORT_FETCH_MEDIA:
            self.fields.pop("fetch_media", None)

    def clean(self):
        # The service runs here, not in save_model, so that what it refuses (a file that does not fit its
        # preset, too large) is shown next to the field instead of after a redirect.
        cleaned = super().clean()
        brand, upload = cleaned.get("brand"), cleaned.get("upload")
        if brand is None or upload is None or self.errors:
            return cleaned
        try:
            self.job = services.import_job_create(
                brand=brand, actor=self.actor, preset=cleaned["preset"], upload=upload, file_name=upload.name,
                fetch_media=cleaned.get("fetch_media", False),
            )  # fmt: skip
        except ApplicationError as exc:
            self.add_error(exc.field if exc.field in self.fields else "upload", exc.message)
        return cleaned


class RowInline(ReadOnlyMixin, admin.TabularInline):
    model = ReviewImportRow
    fields = ["number", "status", "message", "testimonial"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = f"Rows not imported or already there (first {REPORT_ROWS_SHOWN}; the CSV report has all)"

    def get_queryset(self, request):
        rows = (
            super().get_queryset(request).exclude(status=ReviewImportRow.Status.CREATED).select_related("testimonial")
        )
        return rows.order_by("number")

    def get_max_num(self, request, obj=None, **kwargs):
        return REPORT_ROWS_SHOWN

    def has_view_permission(self, request, obj=None):
        return True  # the job's own admin already decided who sees it (its brand's members)


@admin.register(ReviewImport)
class ReviewImportAdmin(BrandScopedAdmin):
    form = ReviewImportForm
    list_display = ["__str__", "brand", "preset", "status", "progress", "created_count", "error_count", "created_at"]
    list_filter = ["status", "preset"]
    inlines = [RowInline]
    readonly_fields = [
        "brand", "preset", "file_name", "status", "progress", "total_rows", "processed_rows", "created_count",
        "duplicate_count", "error_count", "fetch_media", "error", "report", "created_by", "started_at", "finished_at",
    ]  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand", "created_by")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["brand", "preset", "upload", *(["fetch_media"] if settings.VOUCH_IMPORT_FETCH_MEDIA else [])]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # the report stays; erasing testimonials removes their rows

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj else []

    def save_model(self, request, obj, form, change):
        job = form.job  # created (and its task enqueued) by the form, through the service
        obj.pk, obj.public_id = job.pk, job.public_id

    def save_related(self, request, form, formsets, change):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, "Importing in the background; this page shows the progress.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:testimonials_reviewimport_change", args=[obj.pk]))

    @admin.display(description="Progress")
    def progress(self, job: ReviewImport) -> str:
        done, total = job.processed_rows, job.total_rows
        label = f"{job.percent}%" + (f" ({done} of {total} rows)" if total else "")
        return format_html('<progress max="100" value="{}">{}</progress> {}', job.percent, job.percent, label)

    @admin.display(description="Report")
    def report(self, job: ReviewImport) -> str:
        url = reverse("admin:testimonials_reviewimport_report", args=[job.pk])
        return format_html('<a href="{}">Download the report per row (CSV)</a>', url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        job = self.get_object(request, object_id)
        if job is not None and job.status in (ReviewImport.Status.PENDING, ReviewImport.Status.RUNNING):
            response["Refresh"] = "2"  # the progress bar moves without a line of JavaScript
        return response

    def get_urls(self):
        return [
            path(
                "<int:pk>/report.csv",
                self.admin_site.admin_view(self.report_view),
                name="testimonials_reviewimport_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request, pk: int):
        job = self.get_object(request, str(pk))
        if job is None or not self.has_view_permission(request, job):
            return HttpResponse(status=404)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.public_id}-report.csv"'
        writer = csv.writer(response)
        writer.writerow(["row", "status", "message", "testimonial"])
        for row in job.rows.select_related("testimonial").order_by("number").iterator(chunk_size=2000):
            writer.writerow([row.number, row.status, row.message, row.testimonial.public_id if row.testimonial else ""])
        return response


# --------------------------------------------------------------------------- the brand's full export


@admin.action(description="Download the full export (JSON and public photos and videos, zipped)")
def download_full_export(modeladmin, request, queryset):
    roles = roles_for(request)
    brands = [b for b in queryset if roles.can(b.pk, {Membership.Role.OWNER})]
    if len(brands) != 1:
        modeladmin.message_user(request, "Choose one brand you own to export.", messages.WARNING)
        return None
    brand = brands[0]
    spool = tempfile.TemporaryFile()  # on disk, not in memory: renditions can weigh gigabytes
    brand_export(brand=brand, actor=request.user, out=spool)
    spool.seek(0)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return FileResponse(spool, as_attachment=True, filename=f"vouch-{brand.slug}-{stamp}.zip")


# The brand list is the core's; this package adds its action to it (the core never imports packages).
BrandAdmin.actions = [*(BrandAdmin.actions or []), download_full_export]
