"""A brand's own topics in the admin: a name and its terms, one per line. Saved through the service,
which records the change; the brand's testimonials are then read again for topics."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join

from testimonials.admin.scoping import BrandFilter, BrandScopedAdmin, ScopedModelForm, service_errors_as_403
from testimonials.insights.models import BrandTopic
from testimonials.insights.services import brand_topic_delete, brand_topic_save
from testimonials.moderation import topics


class TermsField(forms.CharField):
    """Terms typed one per line (or separated by commas), stored as a list."""

    widget = forms.Textarea(attrs={"rows": 8, "cols": 50})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [term.strip() for line in text.splitlines() for term in line.split(",") if term.strip()]


class BrandTopicForm(ScopedModelForm):
    terms = TermsField(
        required=False,
        help_text="One word or phrase per line (or separated by commas). Inflected forms match too: "
        "“answer” finds answered and answers. A topic named like a built-in one adds its terms to it.",
    )

    class Meta:
        model = BrandTopic
        fields = ["brand", "name", "terms"]


@admin.register(BrandTopic)
class BrandTopicAdmin(BrandScopedAdmin):
    form = BrandTopicForm
    list_display = ["name", "brand", "terms_list", "kind"]
    list_filter = [BrandFilter]
    search_fields = ["name"]
    readonly_fields = ["builtin_topics"]
    fields = ["brand", "name", "terms", "builtin_topics"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand")

    @admin.display(description="Terms")
    def terms_list(self, obj):
        return ", ".join(obj.terms[:8]) + (" …" if len(obj.terms) > 8 else "")

    @admin.display(description="Kind")
    def kind(self, obj):
        return "adds to a built-in topic" if obj.extends_builtin else "the brand's own"

    @admin.display(description="Built-in topics (name one of these to add terms to it)")
    def builtin_topics(self, obj):
        rows = ((t.label, ", ".join(t.terms[:10]) + " …") for t in topics.builtin_topics())
        return format_html_join("", "<div><strong>{}</strong>: {}</div>", rows)

    def save_model(self, request, obj, form, change):
        with service_errors_as_403():
            brand_topic_save(topic=obj, actor=request.user, created=not change, changed=form.changed_data)

    def delete_model(self, request, obj):
        with service_errors_as_403():
            brand_topic_delete(topic=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for topic in queryset:
            self.delete_model(request, topic)
