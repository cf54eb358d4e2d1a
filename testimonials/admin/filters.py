"""List filters of the moderation queue. Static choices cost no query; related ones are brand-scoped."""

from __future__ import annotations

from django.contrib import admin
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from testimonials.admin.scoping import ScopedRelatedFilter, roles_for
from testimonials.insights.selectors import topic_labels_for_brands
from testimonials.models import CollectionForm, MediaAsset, Tag, Testimonial
from testimonials.moderation.flags import FLAGS
from testimonials.selectors import NEEDS_HUMAN_STATES, testimonial_topic_condition

QUEUE = "queue"
ALL = "all"


class QueueFilter(admin.SimpleListFilter):
    """The default view is the queue (what needs a person); "All" and each state are one click away."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(QUEUE, "Needs a person"), *Testimonial.State.choices]

    def value(self):
        return super().value() or QUEUE

    def choices(self, changelist):
        current = self.value()
        yield {
            "selected": current == ALL,
            "query_string": changelist.get_query_string({self.parameter_name: ALL}),
            "display": "All",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string(remove=[self.parameter_name])
                if lookup == QUEUE
                else changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == QUEUE:
            return queryset.filter(state__in=NEEDS_HUMAN_STATES)
        if value in Testimonial.State.values:
            return queryset.filter(state=value)
        return queryset


def is_queue(request) -> bool:
    return request.GET.get(QueueFilter.parameter_name, QUEUE) == QUEUE


class RatingFilter(admin.SimpleListFilter):
    title = "rating"
    parameter_name = "rating"

    def lookups(self, request, model_admin):
        return [(str(n), "★" * n) for n in range(5, 0, -1)] + [("none", "No rating")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(rating__isnull=True)
        if value and value.isdigit():
            return queryset.filter(rating=int(value))
        return queryset


class SentimentFilter(admin.SimpleListFilter):
    title = "sentiment"
    parameter_name = "sentiment"

    def lookups(self, request, model_admin):
        # "Not scored" (a language Vouch cannot read) is one of the labels; "none" is not analysed yet.
        return [*Testimonial.Sentiment.choices, ("none", "Not analysed yet")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(sentiment_label="")
        if value in Testimonial.Sentiment.values:
            return queryset.filter(sentiment_label=value)
        return queryset


class MediaFilter(admin.SimpleListFilter):
    title = "media"
    parameter_name = "media"

    def lookups(self, request, model_admin):
        return [("video", "With video"), ("photo", "With photo"), ("any", "With any media"), ("none", "Text only")]

    def queryset(self, request, queryset):
        value = self.value()
        assets = MediaAsset.objects.filter(testimonial=OuterRef("pk"))
        if value in ("video", "photo"):
            return queryset.filter(Exists(assets.filter(kind=value)))
        if value == "any":
            return queryset.filter(Exists(assets.exclude(kind=MediaAsset.Kind.AVATAR)))
        if value == "none":
            return queryset.filter(~Exists(assets.exclude(kind=MediaAsset.Kind.AVATAR)))
        return queryset


def _has_flag(code: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(flags__contains=[{"code": code}])
    # SQLite cannot do JSON containment: look at the first positions (a testimonial has a handful of flags).
    condition = Q()
    for index in range(8):
        condition |= Q(**{f"flags__{index}__code": code})
    return condition


class FlagFilter(admin.SimpleListFilter):
    title = "flag"
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [("any", "Any flag"), ("none", "No flag"), *((code, flag.label) for code, flag in FLAGS.items())]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.exclude(flags=[])
        if value == "none":
            return queryset.filter(flags=[])
        if value in FLAGS:
            return queryset.filter(_has_flag(value))
        return queryset


class TagFilter(ScopedRelatedFilter):
    title = "tag"
    parameter_name = "tag"
    model = Tag
    field_path = "tags__id"


class FormFilter(ScopedRelatedFilter):
    title = "form"
    parameter_name = "form"
    model = CollectionForm
    field_path = "form_id"
    label_field = "title"


class FeaturedFilter(admin.SimpleListFilter):
    title = "featured"
    parameter_name = "featured"

    def lookups(self, request, model_admin):
        return [("yes", "Featured"), ("no", "Not featured")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(featured=self.value() == "yes")
        return queryset


class TopicFilter(admin.SimpleListFilter):
    """What testimonials talk about: the built-in topics and the user's brands' own (one query)."""

    title = "topic"
    parameter_name = "topic"

    def lookups(self, request, model_admin):
        labels = topic_labels_for_brands(roles_for(request).brand_ids())
        return sorted(labels.items(), key=lambda pair: pair[1].lower())

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(testimonial_topic_condition(value)) if value else queryset
