"""Campaigns in the admin: their settings, funnel and message preview; the brand's sender settings; the
outbox page of the embedded default; and the invitations funnel on the dashboard."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
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
    ScopedModelForm,
    ScopedRelatedFilter,
    roles_for,
    service_errors_as_403,
)
from testimonials.invitations import mailbox
from testimonials.invitations.composing import campaign_preview
from testimonials.invitations.models import (
    Campaign,
    Delivery,
    RecipientStatus,
    SenderProfile,
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
from testimonials.invitations.services import campaign_save, campaign_validate

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
