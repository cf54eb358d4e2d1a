"""Bulk decisions on the moderation list. Each is one call to a bulk service (services/decisions.py,
privacy/services.py), which checks roles, writes every change in a constant number of queries and
records it; the brand's widgets follow through the lifecycle."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from testimonials.admin.scoping import roles_for, scope
from testimonials.errors import ApplicationError
from testimonials.insights.services import testimonials_accept_topic_tags
from testimonials.models import Tag, Testimonial
from testimonials.privacy.services import testimonials_erase
from testimonials.selectors import EDIT_ROLES
from testimonials.services.decisions import (
    BulkResult,
    testimonials_add_tags,
    testimonials_decide,
    testimonials_set_featured,
)

# Suggestions only: a reason is free text, always about content (never about a low rating).
REJECT_REASONS = [
    "Spam or advertising",
    "Abusive or offensive language",
    "Personal data that cannot be redacted",
    "Off-topic: not about this brand",
    "Fake or not from a real customer",
    "Duplicate of another testimonial",
]

REASON_MAX_LENGTH = Testimonial._meta.get_field("rejection_reason").max_length


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        help_text="Why this is not published: a content reason (spam, abuse, personal data, off-topic).",
        widget=forms.TextInput(attrs={"list": "vouch-reject-reasons", "size": 60, "autofocus": True}),
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="Erase permanently: the testimonials, their photos and videos, their history, and every published copy.",
        help_text="For a customer's erasure request (GDPR). This cannot be undone.",
    )


class TagForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.none(), widget=forms.CheckboxSelectMultiple)


class DecisionActionsMixin:
    """The testimonial list's actions; `allowed_permissions=["moderate"]` hides them from viewers."""

    actions = [
        "approve_selected",
        "reject_selected",
        "feature_selected",
        "unfeature_selected",
        "tag_selected",
        "tag_by_topics_selected",
        "unpublish_selected",
        "erase_selected",
    ]

    def has_moderate_permission(self, request):
        return roles_for(request).any(EDIT_ROLES)

    def _report(self, request, result: BulkResult, verb: str) -> None:
        done = len(result.done)
        if done:
            self.message_user(request, f"{done} testimonial{'s' if done != 1 else ''} {verb}.", messages.SUCCESS)
        failures = [f"{item.author_name}: {error.message}" for item, error in result.refused]
        for failure in failures[:10]:
            self.message_user(request, failure, messages.ERROR)
        if len(failures) > 10:
            self.message_user(request, f"… and {len(failures) - 10} more could not be {verb}.", messages.ERROR)

    def _decide(self, request, queryset, verb: str, done: str, reason: str = "") -> None:
        try:
            result = testimonials_decide(testimonials=queryset, actor=request.user, verb=verb, reason=reason)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self._report(request, result, done)

    @admin.action(description="Approve selected testimonials", permissions=["moderate"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, "approve", "approved")

    @admin.action(description="Reject selected testimonials (with a reason)…", permissions=["moderate"])
    def reject_selected(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._decide(request, queryset, "reject", "rejected", reason=form.cleaned_data["reason"])
            return None
        return self._intermediate(request, queryset, form, "reject_selected", "Reject testimonials")

    @admin.action(description="Feature selected testimonials", permissions=["moderate"])
    def feature_selected(self, request, queryset):
        result = testimonials_set_featured(testimonials=queryset, actor=request.user, featured=True)
        self._report(request, result, "featured")

    @admin.action(description="Stop featuring selected testimonials", permissions=["moderate"])
    def unfeature_selected(self, request, queryset):
        result = testimonials_set_featured(testimonials=queryset, actor=request.user, featured=False)
        self._report(request, result, "no longer featured")

    @admin.action(description="Unpublish selected testimonials (back to review)", permissions=["moderate"])
    def unpublish_selected(self, request, queryset):
        self._decide(request, queryset, "unpublish", "unpublished")

    @admin.action(description="Tag selected testimonials…", permissions=["moderate"])
    def tag_selected(self, request, queryset):
        brand_ids = set(queryset.values_list("brand_id", flat=True))
        form = TagForm(request.POST if "apply" in request.POST else None)
        form.fields["tags"].queryset = scope(Tag.objects.filter(brand_id__in=brand_ids), request, roles=EDIT_ROLES)
        if form.is_bound and form.is_valid():
            # A selection may span brands: each testimonial gets its own brand's tags.
            tags = list(form.cleaned_data["tags"])
            self._report(request, testimonials_add_tags(testimonials=queryset, actor=request.user, tags=tags), "tagged")
            return None
        return self._intermediate(request, queryset, form, "tag_selected", "Tag testimonials")

    @admin.action(
        description="Tag selected testimonials with what they talk about (suggested tags)", permissions=["moderate"]
    )
    def tag_by_topics_selected(self, request, queryset):
        result = testimonials_accept_topic_tags(testimonials=queryset.select_related("brand"), actor=request.user)
        self._report(request, result, "tagged")

    @admin.action(description="Erase selected testimonials everywhere (GDPR request)…", permissions=["moderate"])
    def erase_selected(self, request, queryset):
        form = EraseForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._report(request, testimonials_erase(testimonials=queryset, actor=request.user), "erased")
            return None
        return self._intermediate(request, queryset, form, "erase_selected", "Erase testimonials")

    def _intermediate(self, request, queryset, form, action: str, title: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "items": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "reject_reasons": REJECT_REASONS,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/testimonials/testimonial/action_form.html", context)
