"""REST API v1: a brand's testimonials, its rating summary, and moderation decisions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from testimonials import errors
from testimonials.api.auth import api_brands
from testimonials.api.serializers import ListFilters, RejectInput, TestimonialOutput
from testimonials.models import Testimonial
from testimonials.selectors import rating_summary_for_brand, testimonial_get_in_brands, testimonial_list_for_brand
from testimonials.services.decisions import testimonial_approve, testimonial_reject


class NewestFirst(CursorPagination):
    ordering = "-created_at"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def _brand_for(request, slug: str | None):
    """The brand a list call is about: ?brand=slug, or the only one the caller has."""
    brands = api_brands(request)
    if slug:
        return get_object_or_404(brands, slug=slug)
    only = list(brands[:2])
    if len(only) != 1:
        raise ValidationError({"brand": "Say which brand: ?brand=<slug>."})
    return only[0]


def _testimonial_for(request, public_id: str) -> Testimonial:
    return testimonial_get_in_brands(brands=api_brands(request), public_id=public_id)


def _decide(call):
    try:
        return call()
    except errors.PermissionDenied as exc:
        raise PermissionDenied(exc.message) from exc
    except errors.ApplicationError as exc:
        raise ValidationError({"detail": exc.message}) from exc


class TestimonialListApi(APIView):
    def get(self, request):
        filters = ListFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        brand = _brand_for(request, wanted.get("brand"))
        items = testimonial_list_for_brand(
            brand=brand,
            state=wanted.get("state"),
            rating=wanted.get("rating"),
            updated_since=wanted.get("updated_since"),
            sentiment=wanted.get("sentiment"),
            topic=wanted.get("topic"),
        )
        paginator = NewestFirst()
        page = paginator.paginate_queryset(items, request, view=self)
        return paginator.get_paginated_response(TestimonialOutput(page, many=True).data)


class TestimonialDetailApi(APIView):
    def get(self, request, public_id: str):
        return Response(TestimonialOutput(_testimonial_for(request, public_id)).data)


class TestimonialApproveApi(APIView):
    def post(self, request, public_id: str):
        item = _testimonial_for(request, public_id)
        item = _decide(lambda: testimonial_approve(testimonial=item, actor=request.user, note="Through the API."))
        return Response(TestimonialOutput(_testimonial_for(request, item.public_id)).data)


class TestimonialRejectApi(APIView):
    def post(self, request, public_id: str):
        item = _testimonial_for(request, public_id)
        data = RejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        _decide(lambda: testimonial_reject(testimonial=item, actor=request.user, reason=data.validated_data["reason"]))
        return Response(TestimonialOutput(_testimonial_for(request, item.public_id)).data)


class RatingSummaryApi(APIView):
    """Average and distribution over every eligible review, not only the approved ones (FTC)."""

    def get(self, request):
        brand = _brand_for(request, request.query_params.get("brand"))
        summary = rating_summary_for_brand(brand_id=brand.id, digits=2, with_distribution=True)
        return Response({"brand": brand.slug, **summary})
