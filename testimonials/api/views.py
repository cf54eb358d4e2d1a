"""REST API v1: a brand's testimonials (list, detail, create, approve, reject, feature, tag), its rating
summary, forms, widgets (publish) and tags. Webhooks and imports have their own modules in their packages.

Views are thin: find the brand or row among the caller's (404 for others'), validate, one service call,
respond with the explicit output. Business refusals (ApplicationError) become problem details.
"""

from __future__ import annotations

import hashlib

from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from testimonials.api.auth import api_brands
from testimonials.api.pagination import NewestFirst
from testimonials.api.schema import PUBLIC_ID_PATTERN, SLUG_PATTERN
from testimonials.api.serializers import (
    BrandFilter,
    FeatureInput,
    FormOutput,
    ListFilters,
    RejectInput,
    SummaryOutput,
    TagInput,
    TagOutput,
    TagsInput,
    TestimonialCreateInput,
    TestimonialOutput,
    WidgetOutput,
)
from testimonials.collection.fields import TESTIMONIAL_FIELDS
from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.models import Brand, Tag, Testimonial
from testimonials.selectors import (
    collection_form_list_for_brand,
    rating_summary_for_brand,
    tag_list_for_brand,
    testimonial_get_in_brands,
    testimonial_list_for_brand,
    user_can_edit_brand,
    widget_list_for_brand,
)
from testimonials.services.brands import tag_save
from testimonials.services.decisions import (
    testimonial_add_tags,
    testimonial_approve,
    testimonial_reject,
    testimonial_set_featured,
)
from testimonials.widgets.services import widget_publish_request

BRAND_PARAM = OpenApiParameter(
    "brand", OpenApiTypes.STR, description="The brand's slug; needed only when the caller has several brands."
)


def id_param(name: str = "public_id", description: str = "The public id.") -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.PATH, description=description, pattern=PUBLIC_ID_PATTERN
    )


def brand_for(request, slug: str | None) -> Brand:
    """The brand a call is about: ?brand=slug (404 when it is not the caller's), or the caller's only brand."""
    brands = api_brands(request)
    if slug:
        return get_object_or_404(brands, slug=slug)
    only = list(brands[:2])
    if len(only) != 1:
        raise ValidationError({"brand": ["Say which brand: ?brand=<slug>."]})
    return only[0]


def _brand_from_query(request) -> Brand:
    wanted = BrandFilter(data=request.query_params)
    wanted.is_valid(raise_exception=True)
    return brand_for(request, wanted.validated_data.get("brand"))


def _testimonial_for(request, public_id: str) -> Testimonial:
    return testimonial_get_in_brands(brands=api_brands(request), public_id=public_id)


def _fresh(request, item: Testimonial) -> Response:
    return Response(TestimonialOutput(_testimonial_for(request, item.public_id)).data)


# --------------------------------------------------------------------------- testimonials


class TestimonialListApi(generics.ListAPIView):
    """A brand's testimonials, newest first, filtered."""

    serializer_class = TestimonialOutput
    pagination_class = NewestFirst

    def get_queryset(self):
        filters = ListFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        return testimonial_list_for_brand(
            brand=brand_for(self.request, wanted.get("brand")),
            state=wanted.get("state"),
            rating=wanted.get("rating"),
            updated_since=wanted.get("updated_since"),
            sentiment=wanted.get("sentiment"),
            topic=wanted.get("topic"),
            source=wanted.get("source"),
            featured=wanted.get("featured"),
            tag_slug=wanted.get("tag"),
        )

    @extend_schema(operation_id="testimonials_list", parameters=[ListFilters], tags=["testimonials"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="testimonials_create",
        request=TestimonialCreateInput,
        responses={201: TestimonialOutput},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Any unique string up to 200 characters: a retry with the same key returns the first "
                "testimonial instead of storing another.",
            )
        ],
        tags=["testimonials"],
        description="Store a testimonial collected on the brand's own site. It is moderated like every other "
        "one (`state` starts at `received`). The form's rules apply; the consent text and time are required. "
        "Files are not taken here: customers add photos and videos on the hosted form.",
    )
    def post(self, request, *args, **kwargs):
        request._request.upload_limits = {}  # no file is taken here: LimitedUploadHandler refuses every one
        data = TestimonialCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        refused = getattr(request, "upload_refusals", {}) or {}
        if request.FILES or refused:
            field = next(iter(refused), "file")
            raise ValidationError({field: ["This endpoint takes no files; send photos and videos through the form."]})
        wanted = data.validated_data
        brand = brand_for(request, wanted.get("brand"))
        if not user_can_edit_brand(request.user, brand):
            raise PermissionDenied("Only the brand's owners and editors can add testimonials.")
        form = get_object_or_404(collection_form_list_for_brand(brand=brand), slug=wanted["form"])
        key = request.headers.get("Idempotency-Key", "")
        if len(key) > 200:
            raise ValidationError({"Idempotency-Key": ["Use at most 200 characters."]})
        submission = SubmissionData(
            **{
                spec.name: wanted.get(spec.name) or ("" if spec.name != "rating" else None)
                for spec in TESTIMONIAL_FIELDS
            },
            answers=[dict(answer) for answer in wanted.get("answers", [])],
            consent_given=True,
            consent_text=wanted["consent_text"],
            consented_at=wanted["consented_at"],
            marketing_consent=wanted.get("marketing_consent", False),
            source=Testimonial.Source.API,
            # Scoped to the brand, so two brands' keys never collide.
            submission_key=hashlib.sha256(f"api:{brand.id}:{key}".encode()).hexdigest() if key else None,
        )
        item = testimonial_submit(form=form, data=submission)
        if item.brand_id != brand.id:  # a key reused across brands cannot reach another brand's row
            raise ValidationError({"Idempotency-Key": ["This key was already used."]})
        return Response(
            TestimonialOutput(_testimonial_for(request, item.public_id)).data, status=status.HTTP_201_CREATED
        )


class TestimonialDetailApi(APIView):
    @extend_schema(
        operation_id="testimonials_retrieve",
        parameters=[id_param()],
        responses=TestimonialOutput,
        tags=["testimonials"],
    )
    def get(self, request, public_id: str):
        return Response(TestimonialOutput(_testimonial_for(request, public_id)).data)


class TestimonialApproveApi(APIView):
    @extend_schema(
        operation_id="testimonials_approve",
        request=None,
        parameters=[id_param()],
        responses=TestimonialOutput,
        tags=["testimonials"],
        description="Approve (publish). Editors and owners. Approving an approved testimonial changes nothing.",
    )
    def post(self, request, public_id: str):
        item = _testimonial_for(request, public_id)
        testimonial_approve(testimonial=item, actor=request.user, note="Through the API.")
        return _fresh(request, item)


class TestimonialRejectApi(APIView):
    @extend_schema(
        operation_id="testimonials_reject",
        request=RejectInput,
        parameters=[id_param()],
        responses=TestimonialOutput,
        tags=["testimonials"],
        description="Reject for a content reason (spam, abusive, off-topic): never for a low rating.",
    )
    def post(self, request, public_id: str):
        item = _testimonial_for(request, public_id)
        data = RejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        testimonial_reject(testimonial=item, actor=request.user, reason=data.validated_data["reason"])
        return _fresh(request, item)


class TestimonialFeatureApi(APIView):
    @extend_schema(
        operation_id="testimonials_feature",
        request=FeatureInput,
        parameters=[id_param()],
        responses=TestimonialOutput,
        tags=["testimonials"],
        description='Feature (`{"featured": true}`) or stop featuring it. Editors and owners.',
    )
    def post(self, request, public_id: str):
        item = _testimonial_for(request, public_id)
        data = FeatureInput(data=request.data)
        data.is_valid(raise_exception=True)
        testimonial_set_featured(testimonial=item, actor=request.user, featured=data.validated_data["featured"])
        return _fresh(request, item)


class TestimonialTagApi(APIView):
    @extend_schema(
        operation_id="testimonials_tag",
        request=TagsInput,
        parameters=[id_param()],
        responses=TestimonialOutput,
        tags=["testimonials"],
        description="Add the brand's tags (by slug) to a testimonial. Editors and owners.",
    )
    def post(self, request, public_id: str):
        item = _testimonial_for(request, public_id)
        data = TagsInput(data=request.data)
        data.is_valid(raise_exception=True)
        slugs = list(dict.fromkeys(data.validated_data["tags"]))
        tags = list(Tag.objects.filter(brand_id=item.brand_id, slug__in=slugs))
        missing = sorted(set(slugs) - {tag.slug for tag in tags})
        if missing:
            raise ValidationError({"tags": [f"No tag {slug!r} in this brand." for slug in missing]})
        testimonial_add_tags(testimonial=item, actor=request.user, tags=tags)
        return _fresh(request, item)


class RatingSummaryApi(APIView):
    """Average and distribution over every eligible review, not only the approved ones (FTC)."""

    @extend_schema(operation_id="summary_retrieve", parameters=[BrandFilter], responses=SummaryOutput, tags=["brand"])
    def get(self, request):
        brand = _brand_from_query(request)
        summary = rating_summary_for_brand(brand_id=brand.id, digits=2, with_distribution=True)
        return Response(SummaryOutput({"brand": brand.slug, **summary}).data)


# --------------------------------------------------------------------------- forms, widgets, tags


class FormListApi(generics.ListAPIView):
    serializer_class = FormOutput
    pagination_class = NewestFirst

    def get_queryset(self):
        return collection_form_list_for_brand(brand=_brand_from_query(self.request))

    @extend_schema(operation_id="forms_list", parameters=[BrandFilter], tags=["forms"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FormDetailApi(APIView):
    @extend_schema(
        operation_id="forms_retrieve",
        parameters=[
            BrandFilter,
            OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=SLUG_PATTERN),
        ],
        responses=FormOutput,
        tags=["forms"],
    )
    def get(self, request, slug: str):
        form = get_object_or_404(collection_form_list_for_brand(brand=_brand_from_query(request)), slug=slug)
        return Response(FormOutput(form).data)


class WidgetListApi(generics.ListAPIView):
    serializer_class = WidgetOutput
    pagination_class = NewestFirst

    def get_queryset(self):
        return widget_list_for_brand(brand=_brand_from_query(self.request))

    @extend_schema(operation_id="widgets_list", parameters=[BrandFilter], tags=["widgets"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _widget_for(request, public_id: str):
    from testimonials.models import Widget

    return get_object_or_404(
        Widget.objects.select_related("brand", "filter_form").prefetch_related("filter_tags"),
        brand__in=api_brands(request),
        public_id=public_id,
    )


class WidgetDetailApi(APIView):
    @extend_schema(operation_id="widgets_retrieve", parameters=[id_param()], responses=WidgetOutput, tags=["widgets"])
    def get(self, request, public_id: str):
        return Response(WidgetOutput(_widget_for(request, public_id)).data)


class WidgetPublishApi(APIView):
    @extend_schema(
        operation_id="widgets_publish",
        request=None,
        parameters=[id_param()],
        responses={202: WidgetOutput},
        tags=["widgets"],
        description="Publish the widget's static files again now (it also happens by itself whenever what it "
        "shows changes). Editors and owners. Accepted: `published_at` moves once the worker has published.",
    )
    def post(self, request, public_id: str):
        widget = widget_publish_request(widget=_widget_for(request, public_id), actor=request.user)
        return Response(WidgetOutput(_widget_for(request, widget.public_id)).data, status=status.HTTP_202_ACCEPTED)


class TagListApi(generics.ListAPIView):
    serializer_class = TagOutput
    pagination_class = NewestFirst

    def get_queryset(self):
        return tag_list_for_brand(brand=_brand_from_query(self.request))

    @extend_schema(operation_id="tags_list", parameters=[BrandFilter], tags=["tags"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="tags_create", request=TagInput, responses={201: TagOutput}, tags=["tags"])
    def post(self, request, *args, **kwargs):
        data = TagInput(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data
        brand = brand_for(request, wanted.get("brand"))
        slug = wanted.get("slug") or slugify(wanted["name"])[:60]
        if not slug:
            raise ValidationError({"slug": ["Give the tag a slug made of letters, digits or hyphens."]})
        if Tag.objects.filter(brand=brand, slug=slug).exists():
            raise ValidationError({"slug": [f"The brand already has a tag {slug!r}."]})
        tag = tag_save(tag=Tag(brand=brand, name=wanted["name"].strip(), slug=slug), actor=request.user, created=True)
        return Response(TagOutput(tag).data, status=status.HTTP_201_CREATED)
