"""CSV uploads in the admin: upload, map the columns, follow the progress bar, read the per-row report."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from testimonials.admin.scoping import (
    BrandFilter,
    BrandScopedAdmin,
    ReadOnlyMixin,
    roles_for,
    scope,
)
from testimonials.errors import ApplicationError
from testimonials.invitations import csvfile
from testimonials.invitations.admin.campaigns import CSS
from testimonials.invitations.importing import import_job_confirm, import_job_start
from testimonials.invitations.models import (
    Campaign,
    ImportIssue,
    ImportJob,
)
from testimonials.selectors import EDIT_ROLES

REPORT_ROWS_SHOWN = 500


class UploadForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none())
    file = forms.FileField(
        label="Customer list (CSV)",
        help_text="One customer per row, with a header row: email and name, and optionally order id, "
        "order date (YYYY-MM-DD), product and locale. Excel's 'CSV UTF-8' or plain CSV both work.",
    )


class MappingForm(forms.Form):
    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not in this file —"), *[(h, h) for h in headers]]
        for column, label in csvfile.COLUMNS.items():
            self.fields[column] = forms.ChoiceField(label=label, choices=choices, required=False)


class ImportIssueInline(ReadOnlyMixin, admin.TabularInline):
    model = ImportIssue
    fields = ["row_number", "kind", "message", "value"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = f"Rows not added (the first {REPORT_ROWS_SHOWN}; download the report for all)"

    def get_queryset(self, request):
        ids = super().get_queryset(request).values_list("id", flat=True)
        return super().get_queryset(request).filter(id__in=list(ids[:REPORT_ROWS_SHOWN]))

    def has_view_permission(self, request, obj=None):
        return True  # the job's page is already scoped to the user's brands


@admin.register(ImportJob)
class ImportJobAdmin(BrandScopedAdmin):
    list_display = [
        "original_name",
        "campaign",
        "status",
        "progress_col",
        "added",
        "duplicates",
        "invalid",
        "suppressed",
        "created_at",
    ]
    list_filter = [BrandFilter, "status"]
    fields = [
        "campaign", "original_name", "status", "progress_col", "total_rows", "added", "duplicates", "invalid",
        "suppressed", "error", "report_col", "created_by", "created_at", "finished_at",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [ImportIssueInline]
    change_form_template = "admin/invitations/importjob/change_form.html"

    class Media:
        css = CSS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign", "brand", "created_by")

    def has_change_permission(self, request, obj=None):
        return False  # a job is read; it changes only by importing

    @admin.display(description="Progress")
    def progress_col(self, obj):
        return format_html(
            '<progress max="100" value="{}" aria-label="Import progress">{}%</progress> {} of {} rows',
            obj.percent,
            obj.percent,
            obj.processed_rows,
            obj.total_rows or "?",
        )

    @admin.display(description="Report")
    def report_col(self, obj):
        url = reverse("admin:testimonials_importjob_report", args=[obj.pk])
        return format_html('<a class="button" href="{}">Download the per-row report (CSV)</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/mapping/", view(self.mapping_view), name="testimonials_importjob_mapping"),
            path("<int:object_id>/report.csv", view(self.report_view), name="testimonials_importjob_report"),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {}
        if object_id:
            job = self.get_object(request, object_id)
            extra["refresh"] = job is not None and job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
            extra["mapping_url"] = (
                reverse("admin:testimonials_importjob_mapping", args=[job.pk])
                if job is not None and job.status == ImportJob.Status.MAPPING
                else ""
            )
        return super().changeform_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def add_view(self, request, form_url="", extra_context=None):
        """Upload: the file is kept and its columns read; the mapping page comes next."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        campaigns = scope(Campaign.objects.select_related("brand"), request, roles=EDIT_ROLES)
        form = UploadForm(
            request.POST or None, request.FILES or None, initial={"campaign": request.GET.get("campaign")}
        )
        form.fields["campaign"].queryset = campaigns
        if request.method == "POST" and form.is_valid():
            try:
                job = import_job_start(
                    campaign=form.cleaned_data["campaign"], upload=form.cleaned_data["file"], actor=request.user
                )
            except ApplicationError as error:
                form.add_error("file", error.message)
            else:
                return HttpResponseRedirect(reverse("admin:testimonials_importjob_mapping", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload customers",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/invitations/upload.html", context)

    def mapping_view(self, request, object_id: int):
        job = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not roles_for(request).can(job.brand_id, EDIT_ROLES):
            raise PermissionDenied
        if job.status != ImportJob.Status.MAPPING:
            return HttpResponseRedirect(reverse("admin:testimonials_importjob_change", args=[job.pk]))
        form = MappingForm(request.POST or None, headers=job.headers, initial=job.mapping)
        if request.method == "POST" and form.is_valid():
            try:
                import_job_confirm(job=job, mapping=form.cleaned_data, actor=request.user)
            except ApplicationError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(request, "Importing: the page follows its progress.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:testimonials_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Map the columns of {job.original_name}",
            "opts": self.model._meta,
            "job": job,
            "form": form,
            "sample": _sample_rows(job),
        }
        return TemplateResponse(request, "admin/invitations/mapping.html", context)

    def report_view(self, request, object_id: int):
        job = get_object_or_404(self.get_queryset(request), pk=object_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.public_id}-report.csv"'
        writer = csv.writer(response)
        writer.writerow(["row", "problem", "message", "value"])
        for issue in job.issues.order_by("row_number", "id").iterator():
            # A leading =, +, - or @ would run as a formula in a spreadsheet.
            value = "'" + issue.value if issue.value[:1] in ("=", "+", "-", "@") else issue.value
            writer.writerow([issue.row_number, issue.get_kind_display(), issue.message, value])
        return response


def _sample_rows(job: ImportJob, count: int = 3) -> list[list[str]]:
    if not job.file:
        return []
    with job.file.open("rb") as raw:
        shape = csvfile.shape_of(raw)
        out = []
        for _, cells in csvfile.rows(raw, shape):
            out.append([(cells[i] if i < len(cells) else "")[:60] for i in range(len(shape.headers))])
            if len(out) >= count:
                break
    return out
