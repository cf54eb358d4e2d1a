"""The form builder: questions added, typed, ordered and required without JSON; what to ask; branding;
and beside it the public link, a QR code, the embed snippet and "duplicate form"."""

from __future__ import annotations

import io

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.safestring import mark_safe

from testimonials.admin.inputs import CleanLogoMixin
from testimonials.admin.scoping import BrandFilter, BrandScopedAdmin, ScopedModelForm, roles_for, service_errors_as_403
from testimonials.collection.fields import FIELDS
from testimonials.models import CollectionForm, FormQuestion
from testimonials.selectors import EDIT_ROLES
from testimonials.services.forms import (
    collection_form_delete,
    collection_form_duplicate,
    collection_form_questions_save,
    collection_form_save,
)

# The form's setting for each customer field, in page order (collection/fields.py declares them).
MODE_FIELDS = [spec.mode for spec in FIELDS if spec.mode]


def public_url(form: CollectionForm) -> str:
    return f"{settings.PUBLIC_URL}{reverse('collect-form', args=[form.brand.slug, form.slug])}"


def embed_snippet(form: CollectionForm) -> str:
    """An iframe that grows to fit the form (embed.js listens to its height), on any allowed site."""
    return (
        f'<iframe src="{public_url(form)}?embed=1" data-vouch-form title="Leave a testimonial" '
        f'allow="camera; microphone; clipboard-write" style="width:100%;border:0;height:760px"></iframe>\n'
        f'<script src="{settings.PUBLIC_URL}/embed.js" async></script>'
    )


def qr_code(url: str, *, kind: str = "svg") -> bytes:
    """The form's link as a QR code, drawn here (no outside service), SVG for the page or PNG to print."""
    out = io.BytesIO()
    code = segno.make(url, error="m")
    if kind == "svg":
        code.save(out, kind="svg", scale=4, border=2, xmldecl=False, title="QR code of the form's link")
    else:
        code.save(out, kind="png", scale=10, border=3)
    return out.getvalue()


class CollectionFormForm(CleanLogoMixin, ScopedModelForm):
    class Meta:
        model = CollectionForm
        fields = "__all__"
        widgets = {
            **{name: forms.RadioSelect(attrs={"class": "vouch-choices vouch-modes"}) for name in MODE_FIELDS},
            "accent_color": forms.TextInput(attrs={"placeholder": "#4f46e5", "size": 9}),
            "background_color": forms.TextInput(attrs={"placeholder": "#f6f7f9", "size": 9}),
            "intro": forms.Textarea(attrs={"rows": 2, "cols": 60}),
            "consent_text": forms.Textarea(attrs={"rows": 2, "cols": 60}),
            "marketing_consent_text": forms.Textarea(attrs={"rows": 2, "cols": 60}),
            "thank_you_message": forms.Textarea(attrs={"rows": 2, "cols": 60}),
        }
        labels = {
            **{spec.mode: str(spec.label) for spec in FIELDS if spec.mode},
            "is_active": "Open: accepting testimonials",
            "text_min_length": "Shortest testimonial (characters)",
            "text_max_length": "Longest testimonial (characters)",
            "video_max_seconds": "Longest video (seconds)",
            "accent_color": "Accent colour",
            "background_color": "Background colour",
        }


class FormQuestionForm(forms.ModelForm):
    class Meta:
        model = FormQuestion
        fields = ["position", "label", "kind", "required", "choices"]
        widgets = {
            "position": forms.NumberInput(attrs={"class": "vouch-position", "min": 0, "max": 999}),
            "label": forms.TextInput(attrs={"size": 40, "placeholder": "What did you try before us?"}),
            "choices": forms.Textarea(attrs={"rows": 3, "cols": 24, "placeholder": "One choice per line"}),
        }
        labels = {"position": "Order", "kind": "Type", "required": "Required"}


class FormQuestionInline(admin.TabularInline):
    """Questions in the brand's order; saved through the forms service (collection_form_questions_save)."""

    model = FormQuestion
    form = FormQuestionForm
    extra = 1
    verbose_name = "question"
    verbose_name_plural = "Your questions (asked after the testimonial itself)"
    classes = ["vouch-questions"]

    def has_view_permission(self, request, obj=None):
        return obj is None or roles_for(request).can(obj.brand_id)

    def has_add_permission(self, request, obj=None):
        return obj is None or roles_for(request).can(obj.brand_id, EDIT_ROLES)

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)


@admin.register(CollectionForm)
class CollectionFormAdmin(BrandScopedAdmin):
    form = CollectionFormForm
    list_display = ["title", "brand", "link", "is_active"]
    list_filter = [BrandFilter, "is_active"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [FormQuestionInline]
    change_form_template = "admin/testimonials/collectionform/change_form.html"
    fieldsets = [
        ("Basics", {"fields": ["brand", "title", "slug", "intro", "language", "is_active"]}),
        ("What to ask", {"fields": MODE_FIELDS, "classes": ["vouch-modes-set"]}),
        ("Limits", {"fields": [("text_min_length", "text_max_length"), "video_max_seconds"]}),
        (
            "Consent and thanks",
            {"fields": ["consent_text", "marketing_consent_text", "incentive", "thank_you_message"]},
        ),
        ("Branding", {"fields": ["logo", ("accent_color", "background_color"), "button_text"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand")

    @admin.display(description="Public link")
    def link(self, obj):
        url = public_url(obj)
        return mark_safe(f'<a href="{url}" target="_blank" rel="noopener">{obj.brand.slug}/{obj.slug}</a>')  # noqa: S308 - slugs

    def save_model(self, request, obj, form, change):
        with service_errors_as_403():
            collection_form_save(form=obj, actor=request.user, created=not change, changed=form.changed_data)

    def save_formset(self, request, form, formset, change):
        if formset.model is not FormQuestion:
            return super().save_formset(request, form, formset, change)
        saved = formset.save(commit=False)
        with service_errors_as_403():
            collection_form_questions_save(
                form=form.instance, actor=request.user, saved=saved, deleted=formset.deleted_objects
            )
        return None

    def delete_model(self, request, obj):
        with service_errors_as_403():
            collection_form_delete(form=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for form in queryset:
            self.delete_model(request, form)

    # ------------------------------------------------------------------ the builder's side panel

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/duplicate/", view(self.duplicate_view), name="testimonials_collectionform_duplicate"),
            path("<int:object_id>/qr.<str:kind>", view(self.qr_view), name="testimonials_collectionform_qr"),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {}
        form = self.get_object(request, object_id) if object_id else None
        if form is not None:
            url = public_url(form)
            extra = {
                "public_url": url,
                "qr_svg": mark_safe(qr_code(url).decode()),  # noqa: S308 - drawn here from our own URL
                "embed_snippet": embed_snippet(form),
                "sites": form.brand.allowed_domains,
                "can_edit": roles_for(request).can(form.brand_id, EDIT_ROLES),
            }
        return super().changeform_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def duplicate_view(self, request, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = self.get_object(request, object_id)
        if form is None:
            raise Http404
        with service_errors_as_403():
            copy = collection_form_duplicate(form=form, actor=request.user)
        self.message_user(request, f"Duplicated: this is “{copy.title}”. Rename it and adapt it.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:testimonials_collectionform_change", args=[copy.pk]))

    def qr_view(self, request, object_id: int, kind: str):
        form = self.get_object(request, object_id)
        if form is None or kind not in ("svg", "png"):
            raise Http404
        response = HttpResponse(
            qr_code(public_url(form), kind=kind), content_type=f"image/{kind}+xml" if kind == "svg" else "image/png"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{form.brand.slug}-{form.slug}-qr.{kind}"'
        return response
