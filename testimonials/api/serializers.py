"""Explicit input and output shapes. Ids are public ids; internal ids never leave."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.utils import html

from testimonials.collection.fields import TESTIMONIAL_FIELDS, Kind
from testimonials.models import CollectionForm, FormQuestion, MediaAsset, Tag, Testimonial, Widget


def _json_type_problem(field: serializers.Field, value) -> str | None:
    """DRF reads 5 as "5" and "true" as True; in JSON a value of the wrong type is an error to report."""
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Must be a whole number."
    if isinstance(field, serializers.CharField | serializers.ChoiceField | serializers.DateTimeField):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next(
            (_json_type_problem(field.child, item) for item in value if _json_type_problem(field.child, item)), None
        )
    return None


class StrictInput(serializers.Serializer):
    """Input that says what is wrong instead of guessing: a parameter sent empty (`?brand=`, which DRF reads as
    left out) and, in JSON, a value of the wrong type (DRF turns 0 into "0") are refused."""

    def to_internal_value(self, data):
        if html.is_html_input(data):
            problems = {
                name: "Give a value, or leave this out."
                for name, field in self.fields.items()
                if name in data and data.get(name) == "" and not getattr(field, "allow_blank", False)
            }
        elif isinstance(data, dict):
            problems = {
                name: problem
                for name, field in self.fields.items()
                if name in data and (problem := _json_type_problem(field, data[name]))
            }
        else:
            problems = {}
        # A body's unknown field is a mistake to report (a typo would otherwise be lost silently); query strings
        # also carry the pagination's own parameters, so only bodies are held to this.
        if self.context.get("body") or (isinstance(data, dict) and not html.is_html_input(data)):
            for name in data:
                if name not in self.fields:
                    problems[str(name)[:60]] = "Unknown field."
        if problems:
            raise serializers.ValidationError({name: [message] for name, message in problems.items()})
        return super().to_internal_value(data)


class RenditionOutput(serializers.Serializer):
    url = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)


class MediaOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    renditions = serializers.SerializerMethodField()

    class Meta:
        model = MediaAsset
        fields = ["id", "kind", "status", "duration_seconds", "width", "height", "renditions", "error"]

    @extend_schema_field(serializers.DictField(child=RenditionOutput()))
    def get_renditions(self, asset: MediaAsset) -> dict:
        if asset.status != MediaAsset.Status.READY:
            return {}
        return {
            name: {"url": default_storage.url(info["path"]), "width": info.get("width"), "height": info.get("height")}
            for name, info in asset.derivatives.items()
            if isinstance(info, dict) and info.get("path")
        }


class FlagOutput(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField(required=False)
    action = serializers.CharField(required=False)
    evidence = serializers.ListField(child=serializers.CharField(), required=False)


class TopicOutput(serializers.Serializer):
    code = serializers.CharField(help_text="support, speed, price, ease_of_use, quality, delivery, onboarding, staff, "
                                 "results, or one of the brand's own topics.")  # fmt: skip
    polarity = serializers.ChoiceField(choices=["positive", "neutral", "negative"], help_text="What it says about it.")
    quote = serializers.CharField(help_text="The sentence that says it (personal data redacted), or empty.")
    terms = serializers.ListField(child=serializers.CharField(), help_text="The words that named the topic.")


class AnswerSerializer(StrictInput):
    prompt = serializers.CharField(max_length=500)
    answer = serializers.CharField(max_length=1000)


TESTIMONIAL_EXAMPLE = {
    "id": "q1w2e3r4t5y6",
    "brand": "acme",
    "form": "feedback",
    "source": "form",
    "source_platform": "",
    "source_url": "",
    "source_created_at": None,
    "state": "approved",
    "rating": 5,
    "text": "The onboarding call saved us a week of work.",
    "author_name": "Maya Lopez",
    "author_email": "maya@example.com",
    "author_title": "Head of Operations",
    "author_company": "Northwind",
    "author_url": "",
    "public_text": "The onboarding call saved us a week of work.",
    "answers": [],
    "highlight": "The onboarding call saved us a week of work.",
    "sentiment_score": 0.62,
    "sentiment_label": "positive",
    "sentiment_reason": "Positive: an outcome, “The onboarding call saved us a week of work.”; 5 stars agree.",
    "topics": [  # dict(): a topic's code is not a flag code (tests/test_vocabularies.py reads {"code": ...})
        dict(
            code="onboarding",
            polarity="positive",
            quote="The onboarding call saved us a week of work.",
            terms=["onboarding"],
        )
    ],
    "language": "en",
    "flags": [],
    "featured": False,
    "tags": ["onboarding"],
    "is_verified": False,
    "is_incentivised": False,
    "consent_given": True,
    "consent_text": "I agree that my testimonial, name and media may be shown publicly by this brand.",
    "consented_at": "2026-03-02T10:15:00Z",
    "rejection_reason": "",
    "created_at": "2026-03-02T10:15:00Z",
    "updated_at": "2026-03-02T10:16:00Z",
    "media": [],
}


@extend_schema_serializer(examples=[OpenApiExample("An approved testimonial", value=TESTIMONIAL_EXAMPLE)])
class TestimonialOutput(serializers.ModelSerializer):
    __test__ = False

    id = serializers.CharField(source="public_id")
    brand = serializers.CharField(source="brand.slug")
    form = serializers.CharField(source="form.slug", default=None, allow_null=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    flags = FlagOutput(many=True)
    answers = AnswerSerializer(many=True)
    media = MediaOutput(many=True, read_only=True)
    topics = TopicOutput(many=True, read_only=True)

    class Meta:
        model = Testimonial
        fields = [
            "id",
            "brand",
            "form",
            "source",
            "source_platform",
            "source_url",
            "source_created_at",
            "state",
            # The customer's own fields, from their one declaration (collection/fields.py).
            *(spec.name for spec in TESTIMONIAL_FIELDS),
            "public_text",
            "answers",
            "highlight",
            # sentiment_label "unscored" (sentiment_score null) for a language Vouch cannot read.
            "sentiment_score",
            "sentiment_label",
            "sentiment_reason",
            "topics",
            "language",
            "flags",
            "featured",
            "tags",
            "is_verified",
            "is_incentivised",
            "consent_given",
            "consent_text",
            "consented_at",
            "rejection_reason",
            "created_at",
            "updated_at",
            "media",
        ]


def _customer_field(spec) -> serializers.Field:
    """The API's input field for one customer field, from its declaration (collection/fields.py)."""
    if spec.kind == Kind.RATING:
        return serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    if spec.kind == Kind.EMAIL:
        return serializers.EmailField(max_length=spec.max_length, required=False, allow_blank=True)
    if spec.kind == Kind.URL:
        return serializers.URLField(max_length=spec.max_length, required=False, allow_blank=True)
    if spec.kind == Kind.LONG_TEXT:
        return serializers.CharField(required=False, allow_blank=True, max_length=20000)
    return serializers.CharField(
        max_length=spec.max_length, required=spec.mode is None, allow_blank=spec.mode is not None
    )


class _CustomerFields(serializers.SerializerMetaclass):
    def __new__(mcs, name, bases, attrs):
        for spec in TESTIMONIAL_FIELDS:
            attrs.setdefault(spec.name, _customer_field(spec))
        return super().__new__(mcs, name, bases, attrs)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Collected on the brand's own checkout page",
            value={
                "form": "feedback",
                "author_name": "Maya Lopez",
                "author_email": "maya@example.com",
                "rating": 5,
                "text": "The onboarding call saved us a week of work.",
                "consent_text": "I agree that my testimonial, name and media may be shown publicly by Acme.",
                "consented_at": "2026-03-02T10:15:00Z",
            },
            request_only=True,
        )
    ]
)
class TestimonialCreateInput(StrictInput, metaclass=_CustomerFields):
    """A testimonial collected on the brand's own site. The form's rules apply (required fields, lengths),
    and the consent the customer gave must be sent: its exact words and when they agreed."""

    __test__ = False

    brand = serializers.SlugField(required=False, help_text="Needed only when the caller has several brands.")
    form = serializers.SlugField(help_text="The collection form whose rules and settings apply.")
    answers = AnswerSerializer(many=True, required=False)
    consent_text = serializers.CharField(max_length=2000, help_text="The exact words the customer agreed to.")
    consented_at = serializers.DateTimeField(help_text="When they agreed (ISO 8601, with a time zone).")
    marketing_consent = serializers.BooleanField(required=False, default=False)

    def validate_consented_at(self, value):
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError("Consent cannot be given in the future.")
        return value


class RejectInput(StrictInput):
    reason = serializers.CharField(
        max_length=300, allow_blank=False, trim_whitespace=True, help_text="A content reason: spam, abusive, ..."
    )


class FeatureInput(StrictInput):
    featured = serializers.BooleanField(default=True)


class TagsInput(StrictInput):
    tags = serializers.ListField(
        child=serializers.SlugField(max_length=60), min_length=1, max_length=50, help_text="Slugs of the brand's tags."
    )


class ListFilters(StrictInput):
    brand = serializers.SlugField(required=False)
    state = serializers.ChoiceField(choices=Testimonial.State.choices, required=False)
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    source = serializers.ChoiceField(choices=Testimonial.Source.choices, required=False)
    featured = serializers.BooleanField(required=False, allow_null=True, default=None)
    tag = serializers.SlugField(required=False, help_text="Only testimonials with this tag (slug).")
    updated_since = serializers.DateTimeField(required=False)
    sentiment = serializers.ChoiceField(choices=Testimonial.Sentiment.choices, required=False)
    topic = serializers.RegexField(r"^[a-z0-9_]{1,60}$", required=False, help_text="A topic code, e.g. support.")


class BrandFilter(StrictInput):
    brand = serializers.SlugField(required=False, help_text="Needed only when the caller has several brands.")


class SummaryOutput(serializers.Serializer):
    brand = serializers.CharField()
    average = serializers.FloatField(allow_null=True, help_text="Over every eligible review (FTC: none left out).")
    count = serializers.IntegerField()
    distribution = serializers.DictField(child=serializers.IntegerField(), help_text='Reviews per star, "5" to "1".')


class QuestionOutput(serializers.ModelSerializer):
    choices = serializers.ListField(child=serializers.CharField(), source="choice_list")

    class Meta:
        model = FormQuestion
        fields = ["label", "kind", "required", "choices"]


class FormOutput(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug")
    url = serializers.SerializerMethodField()
    questions = QuestionOutput(many=True, read_only=True, help_text="The brand's own questions, in page order.")
    fields = serializers.SerializerMethodField(method_name="field_modes")

    class Meta:
        model = CollectionForm
        fields = [
            "slug", "brand", "title", "intro", "questions", "fields", "text_min_length", "text_max_length",
            "video_max_seconds", "consent_text", "marketing_consent_text", "incentive", "thank_you_message",
            "is_active", "url", "created_at", "updated_at",
        ]  # fmt: skip

    def get_url(self, form: CollectionForm) -> str:
        from django.conf import settings
        from django.urls import reverse

        return settings.PUBLIC_URL + reverse("collect-form", args=[form.brand.slug, form.slug])

    @extend_schema_field(serializers.DictField(child=serializers.ChoiceField(choices=["off", "optional", "required"])))
    def field_modes(self, form: CollectionForm) -> dict:
        """Each customer field (collection/fields.py) and whether this form asks for it."""
        from testimonials.collection.fields import FIELDS, mode_of

        return {spec.name: mode_of(form, spec) for spec in FIELDS}


class WidgetOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    brand = serializers.CharField(source="brand.slug")
    filter_form = serializers.CharField(source="filter_form.slug", default=None, allow_null=True)
    filter_tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    allowed_domains = serializers.ListField(child=serializers.CharField())
    embed = serializers.SerializerMethodField()
    wall_url = serializers.SerializerMethodField()

    class Meta:
        model = Widget
        fields = [
            "id", "brand", "name", "layout", "selection", "order", "auto_goal", "max_items", "theme", "accent_color",
            "corner_radius", "filter_form", "filter_tags", "filter_has_video", "filter_language", "filter_topic",
            "filter_featured", "allowed_domains", "schema_kind", "schema_item_name", "published_version",
            "published_at", "publish_requested_at", "embed", "wall_url", "created_at", "updated_at",
        ]  # fmt: skip

    def get_embed(self, widget: Widget) -> str:
        from django.conf import settings

        return f'<script src="{settings.PUBLIC_URL}/embed.js" data-widget="{widget.public_id}" async></script>'

    def get_wall_url(self, widget: Widget) -> str:
        from django.conf import settings
        from django.urls import reverse

        return settings.PUBLIC_URL + reverse("widget-wall", args=[widget.public_id])


class TagOutput(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug")

    class Meta:
        model = Tag
        fields = ["slug", "name", "brand", "created_at"]


class TagInput(StrictInput):
    brand = serializers.SlugField(required=False, help_text="Needed only when the caller has several brands.")
    name = serializers.CharField(max_length=60)
    slug = serializers.SlugField(max_length=60, required=False, help_text="Made from the name when left out.")
