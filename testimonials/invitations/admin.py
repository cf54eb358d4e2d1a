"""Invitations in the admin, scoped to the user's brands: campaigns with their funnel and a message
preview, CSV uploads (column mapping, progress bar, per-row report), recipients with their history,
messages with "send again" for interrupted ones, the suppression list, the brand's sender settings,
the outbox page of the embedded default, and the funnel on the dashboard."""

from __future__ import annotations

import csv
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from testimonials.admin.dashboard import Bar, bar_chart, register_panel
from testimonials.admin.scoping import (
    BrandFilter,
    BrandScopedAdmin,
    ReadOnlyMixin,
    ScopedModelForm,
    ScopedRelatedFilter,
    roles_for,
    scope,
    service_errors_as_403,
)
from testimonials.errors import ApplicationError
from testimonials.invitations import csvfile, mailbox
from testimonials.invitations.addresses import address_hash
from testimonials.invitations.importing import import_job_confirm, import_job_start
from testimonials.invitations.models import (
    Campaign,
    Delivery,
    ImportIssue,
    ImportJob,
    Recipient,
    RecipientEvent,
    RecipientStatus,
    SenderProfile,
    Suppression,
)
from testimonials.invitations.selectors import (
    STAGES,
    Funnel,
    campaign_list_for_brands,
    deliveries_by_message_id,
    funnel_for_brands,
    funnel_for_campaign,
    funnels_by_campaign,
)
from testimonials.invitations.sending import campaign_preview, delivery_resend
from testimonials.invitations.services import campaign_save, campaign_validate, invitation_unsubscribe, suppression_add
from testimonials.models import Brand
from testimonials.privacy.services import customer_erase
from testimonials.selectors import EDIT_ROLES

Status = RecipientStatus
# One colour per funnel stage (a test fails when a status has none).
STATUS_COLOURS = {
    Status.QUEUED: "#94a3b8",
    Status.SENT: "#60a5fa",
    Status.CLICKED: "#0ea5e9",
    Status.SUBMITTED: "#16a34a",
    Status.UNSUBSCRIBED: "#f59e0b",
    Status.BOUNCED: "#dc2626",
    Status.FAILED: "#7c3aed",
}
REPORT_ROWS_SHOWN = 500
OUTBOX_SHOWN = 200
CSS = {"all": ["testimonials/admin.css"]}


def funnel_chart(funnel: Funnel, *, title: str) -> SafeString:
    """The funnel as inline SVG bars, each labelled with its count and its rate."""
    bars = []
    for stage in STAGES:
        rate = funnel.rate(stage)
        label = Status(stage).label + (f" ({rate:.0%})" if rate is not None else "")
        bars.append(Bar(label, funnel.counts[stage], STATUS_COLOURS[stage]))
    return bar_chart(bars, title=title)


def status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="vouch-badge" style="background:{};color:#fff">{}</span>',
        STATUS_COLOURS[status],
        Status(status).label,
    )


def _dashboard_panel(request, brand_ids: list[int] | None) -> str:
    funnel = funnel_for_brands(brand_ids=brand_ids)
    if not funnel.total:
        return ""
    campaigns = list(campaign_list_for_brands(brand_ids=brand_ids)[:8])
    funnels = funnels_by_campaign(campaign_ids=[c.id for c in campaigns])
    rows = [(c, funnels.get(c.id, Funnel())) for c in campaigns]
    return render_to_string(
        "admin/invitations/_funnel_panel.html",
        {"chart": funnel_chart(funnel, title="Invitations funnel"), "funnel": funnel, "rows": rows},
    )


register_panel("invitations", _dashboard_panel)


# --------------------------------------------------------------------------- sender settings


@admin.register(SenderProfile)
class SenderProfileAdmin(BrandScopedAdmin):
    list_display = ["brand", "from_name", "reply_to", "daily_cap"]
    fields = ["brand", "from_name", "reply_to", "daily_cap"]


# --------------------------------------------------------------------------- campaigns


class CampaignForm(ScopedModelForm):
    class Meta:
        model = Campaign
        fields = ["brand", "form", "name", "subject", "body", "delay_days", "delay_from", "reminder_days", "is_active"]
        help_texts = {
            "reminder_days": "Days after the invitation, at most two: [5, 12] reminds after 5 and 12 days; [] never.",
            "delay_days": "Days after the order date (or the upload) before the invitation goes out.",
        }

    def _post_clean(self):
        super()._post_clean()
        try:
            campaign_validate(self.instance)
        except ValidationError as errors:
            self._update_errors(errors)


class CampaignFilter(ScopedRelatedFilter):
    title = "campaign"
    parameter_name = "campaign"
    model = Campaign
    field_path = "campaign_id"


@admin.register(Campaign)
class CampaignAdmin(BrandScopedAdmin):
    form = CampaignForm
    list_display = ["name", "brand", "form", "is_active", "recipients_col", "sent_col", "submitted_col"]
    list_filter = [BrandFilter, "is_active"]
    search_fields = ["name", "=public_id"]
    readonly_fields = ["public_id", "tools_col", "funnel_col"]
    change_list_template = "admin/invitations/campaign/change_list.html"
    fieldsets = [
        (None, {"fields": ["brand", "form", "name", "is_active", "tools_col"]}),
        ("Message", {"fields": ["subject", "body"]}),
        ("When", {"fields": ["delay_days", "delay_from", "reminder_days"]}),
        ("Funnel", {"fields": ["funnel_col", "public_id"]}),
    ]

    class Media:
        css = CSS

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("brand", "form")
            .annotate(
                _total=Count("recipients"),
                _sent=Count("recipients", filter=Q(recipients__first_sent_at__isnull=False)),
                _submitted=Count("recipients", filter=Q(recipients__submitted_at__isnull=False)),
            )
        )

    @admin.display(description="Customers", ordering="_total")
    def recipients_col(self, obj):
        url = reverse("admin:testimonials_recipient_changelist") + f"?campaign={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj._total)

    @admin.display(description="Sent", ordering="_sent")
    def sent_col(self, obj):
        return obj._sent

    @admin.display(description="Submitted", ordering="_submitted")
    def submitted_col(self, obj):
        return obj._submitted

    @admin.display(description="")
    def tools_col(self, obj):
        if obj is None or obj.pk is None:
            return "Save the campaign to preview its message and upload customers."
        return format_html(
            '<a class="button" href="{}">Preview the message</a> '
            '<a class="button" href="{}">Upload customers (CSV)</a> <a class="button" href="{}">Recipients</a>',
            reverse("admin:testimonials_campaign_preview", args=[obj.pk]),
            reverse("admin:testimonials_importjob_add") + f"?campaign={obj.pk}",
            reverse("admin:testimonials_recipient_changelist") + f"?campaign={obj.pk}",
        )

    @admin.display(description="Funnel")
    def funnel_col(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return funnel_chart(funnel_for_campaign(campaign=obj), title=f"Funnel of {obj.name}")

    def save_model(self, request, obj, form, change):
        with service_errors_as_403():
            campaign_save(campaign=obj, actor=request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/preview/", view(self.preview_view), name="testimonials_campaign_preview"),
            path("outbox/", view(self.outbox_view), name="testimonials_campaign_outbox"),
            path("outbox/<str:name>/", view(self.outbox_message_view), name="testimonials_campaign_outbox_message"),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id: int):
        campaign = get_object_or_404(self.get_queryset(request), pk=object_id)
        step = request.GET.get("step", "0")
        step = int(step) if step in ("0", "1", "2") else 0
        rendered, email = campaign_preview(campaign=campaign, step=step)
        mime = email.message()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {campaign.name}",
            "opts": self.model._meta,
            "campaign": campaign,
            "rendered": rendered,
            "headers": [(k, v) for k, v in mime.items() if k.lower() not in ("content-type", "mime-version")],
            "step": step,
            "steps": [(0, "Invitation")] + [(i + 1, f"Reminder {i + 1}") for i in range(len(campaign.reminder_days))],
        }
        return TemplateResponse(request, "admin/invitations/preview.html", context)

    # The outbox: what the embedded default "sent" (EMAIL_URL unset), as files, read back here.

    def _outbox_visible(self, request, message_ids: list[str]) -> dict[str, Delivery | None]:
        roles = roles_for(request)
        found = deliveries_by_message_id(message_ids=message_ids)
        visible = {}
        for message_id in message_ids:
            delivery = found.get(message_id)
            if roles.superuser or (delivery is not None and roles.can(delivery.brand_id)):
                visible[message_id] = delivery
        return visible

    def outbox_view(self, request):
        if not roles_for(request).any():
            raise PermissionDenied
        files = mailbox.newest_files(OUTBOX_SHOWN)
        read = [mailbox.read_message(f) for f in files]
        visible = self._outbox_visible(request, [m.message_id for m in read])
        context = {
            **self.admin_site.each_context(request),
            "title": "Outbox",
            "opts": self.model._meta,
            "messages_": [(m, visible[m.message_id]) for m in read if m.message_id in visible],
            "embedded": settings.EMAIL_BACKEND == "testimonials.invitations.mailbox.OutboxFileBackend",
            "backend": settings.EMAIL_BACKEND,
            "folder": mailbox.outbox_folder(),
        }
        return TemplateResponse(request, "admin/invitations/outbox.html", context)

    def outbox_message_view(self, request, name: str):
        folder = mailbox.outbox_folder()
        file = folder / name
        if Path(name).name != name or file.suffix != ".eml" or not file.is_file():
            raise Http404
        found = mailbox.read_message(file)
        visible = self._outbox_visible(request, [found.message_id])
        if found.message_id not in visible:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": found.subject,
            "opts": self.model._meta,
            "found": found,
            "delivery": visible[found.message_id],
        }
        return TemplateResponse(request, "admin/invitations/outbox_message.html", context)


# --------------------------------------------------------------------------- CSV imports


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


# --------------------------------------------------------------------------- recipients and messages


class RecipientEventInline(ReadOnlyMixin, admin.TabularInline):
    model = RecipientEvent
    fields = ["at", "from_status", "to_status", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "History"

    def has_view_permission(self, request, obj=None):
        return True


class DeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = Delivery
    fields = ["step", "state", "message_id", "planned_at", "sent_at", "attempts", "smtp_reply", "resent"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Messages"

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyMixin, BrandScopedAdmin):
    list_display = [
        "name",
        "email",
        "campaign",
        "status_col",
        "messages_sent",
        "first_sent_at",
        "clicked_at",
        "submitted_at",
    ]
    list_filter = [CampaignFilter, BrandFilter, "status", "source"]
    search_fields = ["name", "email", "order_id", "=public_id"]
    show_full_result_count = False
    fields = [
        "campaign", "name", "email", "order_id", "order_date", "product", "locale", "status_col", "next_send_at",
        "messages_sent", "first_sent_at", "clicked_at", "submitted_at", "testimonial_col", "error", "source",
        "row_number", "public_id", "created_at",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [RecipientEventInline, DeliveryInline]
    actions = ["unsubscribe_selected", "erase_selected"]

    class Media:
        css = CSS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign", "testimonial")

    @admin.display(description="Status", ordering="status")
    def status_col(self, obj):
        return status_badge(obj.status)

    @admin.display(description="Testimonial")
    def testimonial_col(self, obj):
        if obj.testimonial_id is None:
            return "-"
        url = reverse("admin:testimonials_testimonial_change", args=[obj.testimonial_id])
        return format_html('<a href="{}">{}</a>', url, obj.testimonial.public_id)

    def _editable(self, request, queryset):
        allowed = [r for r in queryset if roles_for(request).can(r.brand_id, EDIT_ROLES)]
        if len(allowed) != len(queryset):
            raise PermissionDenied
        return allowed

    @admin.action(description="Unsubscribe selected customers (no more invitations from this brand)")
    def unsubscribe_selected(self, request, queryset):
        for recipient in self._editable(request, queryset):
            invitation_unsubscribe(recipient=recipient, how=f"by {request.user}")
        self.message_user(request, "Unsubscribed: their addresses are on the suppression list.", messages.SUCCESS)

    @admin.action(description="Erase selected customers everywhere (GDPR: invitations and testimonials)")
    def erase_selected(self, request, queryset):
        people = {(r.brand_id, r.email_key) for r in self._editable(request, queryset)}
        brands = Brand.objects.in_bulk({brand_id for brand_id, _ in people})
        for brand_id, email in sorted(people):
            with service_errors_as_403():
                customer_erase(brand=brands[brand_id], email=email, actor=request.user)
        self.message_user(
            request,
            f"Erased {len(people)} customer(s) everywhere; only a hash stays on the suppression list.",
            messages.SUCCESS,
        )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, BrandScopedAdmin):
    list_display = ["message_id", "recipient", "step", "state", "attempts", "planned_at", "sent_at", "smtp_reply"]
    list_filter = [BrandFilter, "state", "step"]
    search_fields = ["=message_id", "recipient__email"]
    show_full_result_count = False
    actions = ["resend_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient")

    @admin.action(description="Send interrupted messages again (same Message-ID, marked as resent)")
    def resend_selected(self, request, queryset):
        sent = 0
        for delivery in queryset.filter(state=Delivery.State.INTERRUPTED):
            with service_errors_as_403():
                delivery_resend(delivery=delivery, actor=request.user)
            sent += 1
        self.message_user(request, f"{sent} message(s) will be sent again.", messages.SUCCESS)


# --------------------------------------------------------------------------- suppression list


class SuppressionForm(ScopedModelForm):
    email = forms.EmailField(help_text="Only a hash of the address is stored.")

    class Meta:
        model = Suppression
        fields = ["brand"]


@admin.register(Suppression)
class SuppressionAdmin(BrandScopedAdmin):
    """The addresses a brand never writes to again. Hashes only; searching hashes the address typed."""

    form = SuppressionForm
    list_display = ["hash_col", "brand", "reason", "created_at"]
    list_filter = [BrandFilter, "reason"]
    search_fields = ["email_hash"]
    search_help_text = "Type a full email address to see whether it is suppressed."

    @admin.display(description="Address (hashed)")
    def hash_col(self, obj):
        return f"{obj.email_hash[:16]}…"

    def get_search_results(self, request, queryset, search_term):
        queryset = scope(queryset, request)
        if not search_term:
            return queryset, False
        return queryset.filter(email_hash=address_hash(search_term)), False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Only what a person added by hand may be removed: an unsubscribe, a bounce or an erasure stands.
        if obj is not None and obj.reason != Suppression.Reason.MANUAL:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if not roles_for(request).can(form.cleaned_data["brand"].pk, EDIT_ROLES):
            raise PermissionDenied
        suppression_add(brand_id=form.cleaned_data["brand"].pk, address=form.cleaned_data["email"], reason="manual")
        found = Suppression.objects.get(
            brand=form.cleaned_data["brand"], email_hash=address_hash(form.cleaned_data["email"])
        )
        obj.pk, obj.email_hash, obj.reason, obj.created_at = found.pk, found.email_hash, found.reason, found.created_at
