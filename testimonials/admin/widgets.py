"""The widget builder: layout, look and rules chosen beside a live preview of the real document, the
snippet to copy, the hosted page, and the sites that tried to show the widget without being allowed."""

from __future__ import annotations

import copy

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse

from testimonials.admin.brands import SITES_HELP
from testimonials.admin.inputs import OriginsField
from testimonials.admin.scoping import (
    BrandFilter,
    BrandScopedAdmin,
    ScopedInlineMixin,
    ScopedModelForm,
    roles_for,
    service_errors_as_403,
)
from testimonials.analytics.models import MAX_HOLDOUT_PERCENT
from testimonials.analytics.selectors import widget_holdout_percent
from testimonials.analytics.services import widget_holdout_set
from testimonials.errors import ApplicationError
from testimonials.insights.selectors import topic_choices_for_brand
from testimonials.models import Widget, WidgetPick
from testimonials.moderation.language import LANGUAGE_NAMES
from testimonials.selectors import (
    rating_summary_for_brand,
    testimonial_count_published,
    widget_list_blocked_origins,
)
from testimonials.widgets.render import widget_render
from testimonials.widgets.services import widget_delete, widget_mark_snippet_copied, widget_save
from testimonials.widgets.views import document_csp

MIN_RATING_CHOICES = [
    ("", "Any rating: every published testimonial"),
    ("2", "2 stars and up"),
    ("3", "3 stars and up"),
    ("4", "4 stars and up"),
    ("5", "5 stars only"),
]
MIN_RATING_HELP = (
    "A display choice, never a moderation one: nothing is hidden from your queue or your ratings. A widget "
    "with a minimum rating is labelled “Selected testimonials” with the rule, and its average still counts "
    "every review (FTC 16 CFR 465: a selection may be shown when it says it is one)."
)


def language_choices(current: str = "") -> list[tuple[str, str]]:
    """Every language the detector names; those Vouch cannot read say so (no sentiment, no topics)."""
    choices = [("", "Any language")]
    for code, name in sorted(LANGUAGE_NAMES.items(), key=lambda pair: pair[1]):
        choices.append((code, name if code == "en" else f"{name} (not scored: no sentiment or topics)"))
    if current and current not in LANGUAGE_NAMES:
        choices.append((current, current))
    return choices


class WidgetForm(ScopedModelForm):
    allowed_domains = OriginsField(required=False, label="Sites that may show it")
    # Topic and language rules as choices (set per request in WidgetAdmin.get_form): the topics are the
    # built-in ones and the brand's own.
    filter_topic = forms.ChoiceField(
        required=False,
        label="About this topic",
        help_text="Show what people say about one topic (“support”), whatever they say about it. Testimonials "
        "in a language Vouch cannot read are not scored and have no topics, so a topic rule leaves them out.",
    )
    filter_language = forms.ChoiceField(required=False, label="In this language")
    # Analytics (docs/analytics.md): not a Widget field; saved through analytics' own service.
    holdout_percent = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_HOLDOUT_PERCENT,
        label="Hold out (% of visitors)",
        help_text="Opt-in control group: this share of visitors is not shown the widget, to measure its lift "
        "on conversions. 0 or empty: everyone sees it.",
    )
    min_rating = forms.TypedChoiceField(
        choices=MIN_RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label="Minimum rating",
        help_text=MIN_RATING_HELP,
    )

    class Meta:
        model = Widget
        fields = [
            "brand", "name", "layout", "theme", "accent_color", "corner_radius", "language", "selection",
            "min_rating", "filter_featured", "filter_tags", "filter_form", "filter_has_video", "filter_language",
            "filter_topic", "max_items", "order", "auto_goal", "allowed_domains", "schema_kind", "schema_item_name",
        ]  # fmt: skip
        widgets = {
            "layout": forms.RadioSelect(attrs={"class": "vouch-choices"}),
            "theme": forms.RadioSelect(attrs={"class": "vouch-choices"}),
            "selection": forms.RadioSelect(attrs={"class": "vouch-choices"}),
            "accent_color": forms.TextInput(attrs={"placeholder": "#4f46e5", "size": 9}),
            "corner_radius": forms.NumberInput(attrs={"min": 0, "max": 32}),
        }
        labels = {
            "accent_color": "Accent colour",
            "filter_featured": "Featured only",
            "filter_tags": "With these tags",
            "filter_form": "From this form",
            "filter_has_video": "With a video only",
            "max_items": "At most",
            "schema_kind": "Structured data for search engines",
            "schema_item_name": "Product or service name",
        }
        help_texts = {
            "accent_color": "Empty: your brand's accent colour.",
            "theme": "Light suits most sites. “Match the host page” turns dark on a dark page.",
            "language": "The language of the widget's own words (buttons, labels). Testimonials show as written.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        brand = getattr(self.instance, "brand", None) if self.instance.brand_id else None
        sites = ", ".join(brand.allowed_domains) if brand and brand.allowed_domains else "none yet"
        self.fields["allowed_domains"].help_text = f"Empty: your brand's sites ({sites}). {SITES_HELP}"
        if self.instance.pk:
            self.fields["holdout_percent"].initial = widget_holdout_percent(self.instance.pk)

    def clean(self):
        cleaned = super().clean()
        code, brand = cleaned.get("filter_topic"), cleaned.get("brand")
        if code and brand and code not in dict(topic_choices_for_brand(brand_id=brand.pk)):
            self.add_error("filter_topic", "This topic belongs to another brand.")
        return cleaned


class WidgetPickFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            item = form.cleaned_data.get("testimonial") if hasattr(form, "cleaned_data") else None
            if item is not None and item.brand_id != self.instance.brand_id:
                form.add_error("testimonial", "This testimonial belongs to another brand.")


class WidgetPickInline(ScopedInlineMixin, admin.TabularInline):
    model = WidgetPick
    formset = WidgetPickFormSet
    extra = 0
    autocomplete_fields = ["testimonial"]
    fields = ["testimonial", "position"]
    verbose_name = "hand-picked testimonial"
    verbose_name_plural = "Hand-picked testimonials (when “What it shows” is hand-picked)"

    def has_view_permission(self, request, obj=None):
        return obj is None or roles_for(request).can(obj.brand_id)

    def has_add_permission(self, request, obj=None):
        return obj is None or roles_for(request).can(obj.brand_id, WidgetAdmin.edit_roles)

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)


def snippet_for(widget: Widget) -> str:
    """The lines a brand pastes into its page (README, "Widgets")."""
    base = settings.PUBLIC_URL
    return (
        f'<script src="{base}/embed.js" data-widget="{widget.public_id}" async></script>\n'
        f'<noscript><a href="{base}/w/{widget.public_id}/">Read what our customers say</a></noscript>'
    )


@admin.register(Widget)
class WidgetAdmin(BrandScopedAdmin):
    form = WidgetForm
    list_display = ["name", "brand", "layout", "sites", "published_at"]
    list_filter = [BrandFilter, "layout"]
    search_fields = ["name", "public_id"]
    autocomplete_fields = ["filter_tags", "filter_form"]
    inlines = [WidgetPickInline]
    change_form_template = "admin/testimonials/widget/change_form.html"
    fieldsets = [
        ("Layout", {"fields": ["brand", "name", "layout"]}),
        ("Look", {"fields": ["theme", "accent_color", "corner_radius", "language"]}),
        (
            "What it shows",
            {
                "fields": [
                    "selection",
                    "min_rating",
                    ("filter_featured", "filter_has_video"),
                    "filter_tags",
                    "filter_form",
                    "filter_language",
                    "filter_topic",
                    ("max_items", "order", "auto_goal"),
                ]
            },
        ),
        ("Where it may appear", {"fields": ["allowed_domains"]}),
        ("Measuring", {"fields": ["holdout_percent"], "classes": ["collapse"]}),
        ("Search engines", {"fields": ["schema_kind", "schema_item_name"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        roles = roles_for(request)
        brand_ids = [obj.brand_id] if obj else (roles.brand_ids(self.edit_roles) or [])
        if obj is None and roles.superuser:
            brand_ids = [None]  # built-in topics; a brand's own ones once the widget belongs to it
        topics: dict[str, str] = {}
        for brand_id in brand_ids:
            topics.update(topic_choices_for_brand(brand_id=brand_id))
        current = obj.filter_topic if obj else ""
        if current and current not in topics:
            topics[current] = current.replace("_", " ").capitalize()
        choices = [("", "Any topic"), *sorted(topics.items(), key=lambda pair: pair[1])]
        form.base_fields["filter_topic"].choices = choices
        form.base_fields["filter_language"].choices = language_choices(obj.filter_language if obj else "")
        return form

    @admin.display(description="Sites")
    def sites(self, obj):
        sites = obj.allowed_domains or obj.brand.allowed_domains
        return ", ".join(sites) if sites else "None yet: only its hosted page"

    def save_model(self, request, obj, form, change):
        # Through the service: it records the change, and the widget is republished after commit,
        # once its picks and tags (saved next, in the same transaction) are in.
        with service_errors_as_403():
            widget_save(widget=obj, actor=request.user, created=not change, changed=form.changed_data)
            if "holdout_percent" in form.changed_data:
                percent = form.cleaned_data.get("holdout_percent") or 0
                widget_holdout_set(widget=obj, percent=percent, actor=request.user)

    def delete_model(self, request, obj):
        # Through the service: its subscriber removes every file the widget published, so old
        # snippets on brands' sites show nothing instead of a stale copy.
        with service_errors_as_403():
            widget_delete(widget=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for widget in queryset:
            widget_delete(widget=widget, actor=request.user)

    # ------------------------------------------------------------------ the builder's side panel

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("preview/", view(self.preview_view), name="testimonials_widget_preview_new"),
            path("<int:object_id>/preview/", view(self.preview_view), name="testimonials_widget_preview"),
            path("<int:object_id>/copied/", view(self.copied_view), name="testimonials_widget_copied"),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {"preview_url": reverse("admin:testimonials_widget_preview_new")}
        widget = self.get_object(request, object_id) if object_id else None
        if widget is not None:
            summary = rating_summary_for_brand(brand_id=widget.brand_id, form_id=widget.filter_form_id)
            extra.update(
                widget=widget,
                snippet=snippet_for(widget),
                hosted_url=f"{settings.PUBLIC_URL}/w/{widget.public_id}/",
                preview_url=reverse("admin:testimonials_widget_preview", args=[widget.pk]),
                copied_url=reverse("admin:testimonials_widget_copied", args=[widget.pk]),
                blocked=widget_list_blocked_origins(widget=widget),
                sites=widget.allowed_domains or widget.brand.allowed_domains,
                own_sites=bool(widget.allowed_domains),
                publishing=bool(
                    widget.publish_requested_at
                    and (widget.published_at is None or widget.published_at < widget.publish_requested_at)
                ),
                reviews=summary["count"],
                customers=testimonial_count_published(brand_id=widget.brand_id),
            )
        return super().changeform_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def preview_view(self, request, object_id: int | None = None):
        """The widget's document as it would be published with the settings on screen (saved or not): the
        same render as publishing, framed by the admin page only."""
        widget = self.get_object(request, object_id) if object_id else None
        if object_id and widget is None:
            raise Http404
        allowed = self.has_view_permission(request, widget) if widget else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        instance = copy.copy(widget) if widget else Widget()
        form = self.get_form(request, widget)(request.GET or None, instance=instance)
        tag_ids = None
        if form.is_bound:
            form.is_valid()  # fills the instance with every valid setting; the rest keep their saved value
            tags = form.cleaned_data.get("filter_tags")
            tag_ids = [tag.pk for tag in tags] if tags is not None else None
        if not instance.brand_id:
            document = render_to_string("admin/testimonials/widget/preview_empty.html")
        else:
            document = widget_render(instance, tag_ids=tag_ids, with_pages=False).document
        response = HttpResponse(document, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = document_csp("'self'")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Cache-Control"] = "no-store"
        return response

    def copied_view(self, request, object_id: int):
        """The Copy button was pressed: the first-run checklist ticks "snippet copied"."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        widget = self.get_object(request, object_id)
        if widget is None:
            raise Http404
        try:
            widget_mark_snippet_copied(widget=widget, actor=request.user)
        except ApplicationError as error:
            return JsonResponse({"error": error.message}, status=403)
        return JsonResponse({"copied": True})
