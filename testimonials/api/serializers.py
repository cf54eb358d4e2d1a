"""Explicit input and output shapes. Ids are public ids; internal ids never leave."""

from rest_framework import serializers

from testimonials.collection.fields import TESTIMONIAL_FIELDS
from testimonials.models import MediaAsset, Testimonial


class MediaOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    renditions = serializers.SerializerMethodField()

    class Meta:
        model = MediaAsset
        fields = ["id", "kind", "status", "duration_seconds", "width", "height", "renditions", "error"]

    def get_renditions(self, asset: MediaAsset) -> dict:
        from django.core.files.storage import default_storage

        if asset.status != MediaAsset.Status.READY:
            return {}
        return {
            name: {"url": default_storage.url(info["path"]), "width": info.get("width"), "height": info.get("height")}
            for name, info in asset.derivatives.items()
            if isinstance(info, dict) and info.get("path")
        }


class TestimonialOutput(serializers.ModelSerializer):
    __test__ = False

    id = serializers.CharField(source="public_id")
    brand = serializers.CharField(source="brand.slug")
    form = serializers.CharField(source="form.slug", default=None)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    media = MediaOutput(many=True, read_only=True)

    class Meta:
        model = Testimonial
        fields = [
            "id",
            "brand",
            "form",
            "source",
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


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=False, trim_whitespace=True)


class ListFilters(serializers.Serializer):
    brand = serializers.SlugField(required=False)
    state = serializers.ChoiceField(choices=Testimonial.State.choices, required=False)
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    updated_since = serializers.DateTimeField(required=False)
    sentiment = serializers.ChoiceField(choices=Testimonial.Sentiment.choices, required=False)
    topic = serializers.RegexField(r"^[a-z0-9_]{1,60}$", required=False, help_text="A topic code, e.g. support.")
