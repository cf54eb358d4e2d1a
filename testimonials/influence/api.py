"""GET /api/v1/influence/reviewers/: whose word brought buyers, per reviewer (their share link's code).

curl -H "Authorization: Bearer vk_..." "https://vouch.example.com/api/v1/influence/reviewers/?days=30"
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from testimonials.api.serializers import StrictInput
from testimonials.api.views import brand_for
from testimonials.influence.selectors import reviewer_influence_list


class ReviewersInput(StrictInput):
    brand = serializers.SlugField(required=False, help_text="Needed only when the caller has several brands.")
    days = serializers.IntegerField(min_value=1, max_value=3650, required=False, default=90)


class ReviewerOutput(serializers.Serializer):
    testimonial = serializers.CharField(help_text="The testimonial's public id.")
    reviewer = serializers.CharField(help_text="The name the reviewer gave.")
    referral_code = serializers.CharField(help_text="The code in the reviewer's share link (?vouch_ref=).")
    shares_clicked = serializers.IntegerField(help_text="Visits that arrived carrying the code.")
    arrivals = serializers.IntegerField(help_text="Distinct visitors among them (per attribution window).")
    conversions = serializers.IntegerField(help_text="Conversions by those visitors within the attribution window.")
    value = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="In the brand's reporting currency.")


class ReviewersOutput(serializers.Serializer):
    brand = serializers.CharField()
    days = serializers.IntegerField()
    reviewers = ReviewerOutput(many=True)


class ReviewerInfluenceApi(APIView):
    """Per reviewer: shares clicked, arrivals, conversions and value, most conversions first."""

    @extend_schema(
        operation_id="influence_reviewers_list", parameters=[ReviewersInput], responses=ReviewersOutput, tags=["brand"]
    )
    def get(self, request):
        wanted = ReviewersInput(data=request.query_params)
        wanted.is_valid(raise_exception=True)
        brand = brand_for(request, wanted.validated_data.get("brand"))
        days = wanted.validated_data["days"]
        rows = reviewer_influence_list(brand=brand, days=days)
        return Response(ReviewersOutput({"brand": brand.slug, "days": days, "reviewers": rows}).data)
