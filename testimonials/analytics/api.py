"""REST API v1 reads of influence: a brand's funnel, days and holdouts; its testimonials' numbers; one
testimonial's. The same selectors as the admin's Influence page, so both show the same numbers.

Brand-scoped like every endpoint: an API key reaches its own brand, a session its member's brands, and
another brand's slug, widget or testimonial is 404.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from testimonials.analytics import estimates
from testimonials.analytics.influence import (
    DEFAULT_SORT,
    SORTS,
    attribution_days,
    currency_for,
    date_range_make,
    influence_report,
    testimonial_influence,
)
from testimonials.api.auth import api_brands
from testimonials.api.schema import PUBLIC_ID_PATTERN
from testimonials.api.serializers import StrictInput
from testimonials.api.views import brand_for, id_param
from testimonials.errors import ApplicationError
from testimonials.models import Widget
from testimonials.selectors import testimonial_get_in_brands

ANY_TOUCH = "Every testimonial the visitor viewed in the attribution window before converting is credited."
LAST_TOUCH = "Only the last testimonial the visitor viewed before converting is credited."
ORDERS = [key for name in SORTS for key in (name, f"-{name}")]


# --------------------------------------------------------------------------- input


class InfluenceRangeInput(StrictInput):
    start = serializers.DateField(required=False, help_text="First day, included (default: 30 days before `end`).")
    end = serializers.DateField(required=False, help_text="Last day, included (default: today). At most 366 days.")

    def validate(self, data):
        try:
            data["range"] = date_range_make(start=data.get("start"), end=data.get("end"))
        except ApplicationError as exc:
            raise serializers.ValidationError({exc.field or "non_field_errors": [exc.message]}) from exc
        return data


class InfluenceReportInput(InfluenceRangeInput):
    brand = serializers.SlugField(required=False, help_text="The brand's slug; needed only with several brands.")
    widget = serializers.RegexField(
        PUBLIC_ID_PATTERN, required=False, help_text="Only this widget (its public id); default: every widget."
    )


class InfluenceTestimonialsInput(InfluenceReportInput):
    order = serializers.ChoiceField(
        choices=ORDERS, required=False, default=DEFAULT_SORT, help_text="Sort key; a leading - sorts largest first."
    )


# --------------------------------------------------------------------------- output


class InfluenceComparisonOutput(serializers.Serializer):
    enough_data = serializers.BooleanField(
        help_text=f"False below {estimates.MIN_SAMPLE} visitors in either group: every estimate is then null."
    )
    exposed_visitors = serializers.IntegerField()
    exposed_conversions = serializers.IntegerField()
    baseline_visitors = serializers.IntegerField()
    baseline_conversions = serializers.IntegerField()
    min_sample = serializers.IntegerField()
    level = serializers.FloatField(help_text="The credible level of the interval (0.95).")
    difference = serializers.FloatField(
        allow_null=True, help_text="Posterior mean of exposed minus baseline conversion rate (0.01 = 1 point)."
    )
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    probability_better = serializers.FloatField(allow_null=True, help_text="P(exposed rate > baseline rate).")
    summary = serializers.CharField(
        help_text='What the admin shows, e.g. "+1.2 pts (-0.3 to +2.6), 94% likely better", or "not enough data yet".'
    )


class InfluenceTestimonialOutput(serializers.Serializer):
    testimonial = serializers.CharField(source="testimonial.public_id", help_text="The testimonial's public id.")
    author_name = serializers.CharField(source="testimonial.author_name")
    views = serializers.IntegerField()
    plays = serializers.IntegerField()
    q25 = serializers.IntegerField()
    q50 = serializers.IntegerField()
    q75 = serializers.IntegerField()
    completions = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True, help_text="Completions per play; null with no play.")
    clicks = serializers.IntegerField(help_text="Author link, read more and share clicks.")
    viewers = serializers.IntegerField(help_text="Distinct visitors who viewed it (per attribution window).")
    viewer_converters = serializers.IntegerField()
    conversions_any = serializers.IntegerField(help_text="Any-touch attributed conversions.")
    value_any = serializers.DecimalField(max_digits=18, decimal_places=2)
    conversions_last = serializers.IntegerField(help_text="Last-touch attributed conversions.")
    value_last = serializers.DecimalField(max_digits=18, decimal_places=2)
    influence = InfluenceComparisonOutput(help_text="Its viewers against the same widgets' other visitors.")


class InfluenceRangeOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class InfluenceAttributionOutput(serializers.Serializer):
    window_days = serializers.IntegerField()
    any_touch = serializers.CharField()
    last_touch = serializers.CharField()


class InfluenceTestimonialListOutput(serializers.Serializer):
    brand = serializers.CharField()
    range = InfluenceRangeOutput()
    currency = serializers.CharField()
    attribution = InfluenceAttributionOutput()
    results = InfluenceTestimonialOutput(many=True)


class InfluenceTestimonialDetailOutput(serializers.Serializer):
    range = InfluenceRangeOutput()
    currency = serializers.CharField()
    attribution = InfluenceAttributionOutput()
    result = InfluenceTestimonialOutput()


class InfluenceFunnelOutput(serializers.Serializer):
    impressions = serializers.IntegerField()
    views = serializers.IntegerField()
    plays = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField(help_text="Conversions of visitors who had seen a widget, once each.")
    value = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Their value, in `currency`.")


class InfluenceDayOutput(serializers.Serializer):
    day = serializers.DateField()
    impressions = serializers.IntegerField()
    views = serializers.IntegerField()
    plays = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField(help_text="Conversions of visitors who had seen a widget.")
    conversions_viewed = serializers.IntegerField(help_text="Of them, after viewing at least one testimonial.")


class InfluenceSampleRatioOutput(serializers.Serializer):
    expected_share = serializers.FloatField()
    observed_share = serializers.FloatField(allow_null=True)
    chi_square = serializers.FloatField()
    p_value = serializers.FloatField()
    alarm = serializers.BooleanField(help_text=f"True when p < {estimates.SRM_ALARM_P}: do not trust the lift.")


class InfluenceHoldoutOutput(serializers.Serializer):
    widget = serializers.CharField(source="widget.public_id")
    widget_name = serializers.CharField(source="widget.name")
    percent = serializers.IntegerField()
    shown_visitors = serializers.IntegerField()
    held_visitors = serializers.IntegerField()
    shown_converters = serializers.IntegerField()
    held_converters = serializers.IntegerField()
    lift = InfluenceComparisonOutput()
    sample_ratio = InfluenceSampleRatioOutput(source="ratio")


class InfluenceSummaryOutput(serializers.Serializer):
    brand = serializers.CharField()
    range = InfluenceRangeOutput()
    currency = serializers.CharField()
    attribution = InfluenceAttributionOutput()
    funnel = InfluenceFunnelOutput()
    days = InfluenceDayOutput(many=True)
    holdouts = InfluenceHoldoutOutput(many=True)


# --------------------------------------------------------------------------- views


def _attribution(days: int) -> dict:
    return {"window_days": days, "any_touch": ANY_TOUCH, "last_touch": LAST_TOUCH}


def _report_for(request, input_class):
    wanted = input_class(data=request.query_params)
    wanted.is_valid(raise_exception=True)
    data = wanted.validated_data
    brand = brand_for(request, data.get("brand"))
    widget_id = None
    if data.get("widget"):
        widget_id = get_object_or_404(Widget.objects.filter(brand=brand), public_id=data["widget"]).id
    return brand, data, widget_id


class InfluenceSummaryApi(APIView):
    @extend_schema(
        operation_id="influence_summary",
        parameters=[InfluenceReportInput],
        responses=InfluenceSummaryOutput,
        tags=["influence"],
        description="A brand's funnel (impressions, views, plays, clicks, conversions), its days, and each "
        "widget's holdout lift with the sample-ratio check, over a range of days.",
    )
    def get(self, request):
        brand, data, widget_id = _report_for(request, InfluenceReportInput)
        report = influence_report(brand_ids=[brand.id], dates=data["range"], widget_id=widget_id, names_for=None)
        body = {
            "brand": brand.slug,
            "range": report.range,
            "currency": report.currency,
            "attribution": _attribution(report.attribution_days),
            "funnel": report.funnel,
            "days": report.days,
            "holdouts": [h for h in report.holdouts if h.widget is not None],
        }
        return Response(InfluenceSummaryOutput(body).data)


class InfluenceTestimonialListApi(APIView):
    @extend_schema(
        operation_id="influence_testimonials",
        parameters=[InfluenceTestimonialsInput],
        responses=InfluenceTestimonialListOutput,
        tags=["influence"],
        description="Every testimonial seen in the range with its views, plays, completion, clicks, attributed "
        "conversions (any-touch and last-touch) and influence: the conversion rate of its viewers against "
        f"visitors of the same widgets who did not view it, null below {estimates.MIN_SAMPLE} visitors each.",
    )
    def get(self, request):
        brand, data, widget_id = _report_for(request, InfluenceTestimonialsInput)
        report = influence_report(brand_ids=[brand.id], dates=data["range"], widget_id=widget_id, order=data["order"])
        body = {
            "brand": brand.slug,
            "range": report.range,
            "currency": report.currency,
            "attribution": _attribution(report.attribution_days),
            "results": [row for row in report.rows if row.testimonial is not None],
        }
        return Response(InfluenceTestimonialListOutput(body).data)


class InfluenceTestimonialDetailApi(APIView):
    @extend_schema(
        operation_id="influence_testimonial",
        parameters=[id_param(), InfluenceRangeInput],
        responses=InfluenceTestimonialDetailOutput,
        tags=["influence"],
        description="One testimonial's numbers over the range, measured as in the list.",
    )
    def get(self, request, public_id: str):
        item = testimonial_get_in_brands(brands=api_brands(request), public_id=public_id)
        wanted = InfluenceRangeInput(data=request.query_params)
        wanted.is_valid(raise_exception=True)
        dates = wanted.validated_data["range"]
        body = {
            "range": dates,
            "currency": currency_for([item.brand_id]),
            "attribution": _attribution(attribution_days()),
            "result": testimonial_influence(testimonial=item, dates=dates),
        }
        return Response(InfluenceTestimonialDetailOutput(body).data)
