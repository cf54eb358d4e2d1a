"""Bulk decisions on the moderation list. Each one goes through testimonials.services.moderation,
which checks the role, writes a ModerationEvent and republishes the brand's widgets."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from testimonials.admin.scoping import roles_for, scope
from testimonials.errors import ApplicationError
from testimonials.models import Tag, Testimonial
from testimonials.selectors import EDIT_ROLES
from testimonials.services.decisions import (
    testimonial_add_tags,
    testimonial_approve,
    testimonial_reject,
    testimonial_set_featured,
    testimonial_unpublish,
)
from testimonials.services.privacy import testimonial_erase

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


class ModerationActionsMixin:
    """The testimonial list's actions; `allowed_permissions=["moderate"]` hides them from viewers."""

    actions = [
        "approve_selected",
        "reject_selected",
        "feature_selected",
        "unfeature_selected",
        "tag_selected",
        "unpublish_selected",
        "erase_selected",
    ]

    def has_moderate_permission(self, request):
        return roles_for(request).any(EDIT_ROLES)

    def _each(self, request, queryset, verb: str, decide) -> None:
        done, failures = 0, []
        for item in queryset:
            try:
                decide(item)
            except ApplicationError as exc:
                failures.append(f"{item.author_name}: {exc.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} testimonial{'s' if done != 1 else ''} {verb}.", messages.SUCCESS)
        for failure in failures[:10]:
            self.message_user(request, failure, messages.ERROR)
        if len(failures) > 10:
            self.message_user(request, f"… and {len(failures) - 10} more could not be {verb}.", messages.ERROR)

    @admin.action(description="Approve selected testimonials", permissions=["moderate"])
    def approve_selected(self, request, queryset):
        self._each(request, queryset, "approved", lambda t: testimonial_approve(testimonial=t, actor=request.user))

    @admin.action(description="Reject selected testimonials (with a reason)…", permissions=["moderate"])
    def reject_selected(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                "rejected",
                lambda t: testimonial_reject(testimonial=t, actor=request.user, reason=reason),
            )
            return None
        return self._intermediate(request, queryset, form, "reject_selected", "Reject testimonials")

    @admin.action(description="Feature selected testimonials", permissions=["moderate"])
    def feature_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            "featured",
            lambda t: testimonial_set_featured(testimonial=t, actor=request.user, featured=True),
        )

    @admin.action(description="Stop featuring selected testimonials", permissions=["moderate"])
    def unfeature_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            "no longer featured",
            lambda t: testimonial_set_featured(testimonial=t, actor=request.user, featured=False),
        )

    @admin.action(description="Unpublish selected testimonials (back to review)", permissions=["moderate"])
    def unpublish_selected(self, request, queryset):
        self._each(request, queryset, "unpublished", lambda t: testimonial_unpublish(testimonial=t, actor=request.user))

    @admin.action(description="Tag selected testimonials…", permissions=["moderate"])
    def tag_selected(self, request, queryset):
        brand_ids = {t.brand_id for t in queryset}
        form = TagForm(request.POST if "apply" in request.POST else None)
        form.fields["tags"].queryset = scope(Tag.objects.filter(brand_id__in=brand_ids), request, roles=EDIT_ROLES)
        if form.is_bound and form.is_valid():
            tags = list(form.cleaned_data["tags"])

            def tag(item):
                # A selection may span brands: each testimonial gets its own brand's tags.
                mine = [t for t in tags if t.brand_id == item.brand_id]
                if mine:
                    testimonial_add_tags(testimonial=item, actor=request.user, tags=mine)

            self._each(request, queryset, "tagged", tag)
            return None
        return self._intermediate(request, queryset, form, "tag_selected", "Tag testimonials")

    @admin.action(description="Erase selected testimonials everywhere (GDPR request)…", permissions=["moderate"])
    def erase_selected(self, request, queryset):
        form = EraseForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._each(request, queryset, "erased", lambda t: testimonial_erase(testimonial=t, actor=request.user))
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
