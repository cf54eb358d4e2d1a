"""REST API v1 routes. Names follow api-<entity>-<action>; every one has a row in tests/test_tenant_isolation.py.
Webhooks and imports add theirs under /api/v1/webhooks/ and /api/v1/imports/ (config/urls.py)."""

from django.urls import path, register_converter

from testimonials.analytics import api as influence
from testimonials.api import views
from testimonials.api.schema import PublicIdConverter
from testimonials.influence.api import ReviewerInfluenceApi
from testimonials.invitations.api import InvitationCreateApi

# A public id in a path is what new_public_id() makes: anything else is no route (404), never a query.
register_converter(PublicIdConverter, "pid")

urlpatterns = [
    path("testimonials/", views.TestimonialListApi.as_view(), name="api-testimonial-list"),
    path("testimonials/<pid:public_id>/", views.TestimonialDetailApi.as_view(), name="api-testimonial-detail"),
    path(
        "testimonials/<pid:public_id>/approve/", views.TestimonialApproveApi.as_view(), name="api-testimonial-approve"
    ),
    path("testimonials/<pid:public_id>/reject/", views.TestimonialRejectApi.as_view(), name="api-testimonial-reject"),
    path(
        "testimonials/<pid:public_id>/feature/", views.TestimonialFeatureApi.as_view(), name="api-testimonial-feature"
    ),
    path("testimonials/<pid:public_id>/tags/", views.TestimonialTagApi.as_view(), name="api-testimonial-tag"),
    path("summary/", views.RatingSummaryApi.as_view(), name="api-rating-summary"),
    path("forms/", views.FormListApi.as_view(), name="api-form-list"),
    path("forms/<slug:slug>/", views.FormDetailApi.as_view(), name="api-form-detail"),
    path("widgets/", views.WidgetListApi.as_view(), name="api-widget-list"),
    path("widgets/<pid:public_id>/", views.WidgetDetailApi.as_view(), name="api-widget-detail"),
    path("widgets/<pid:public_id>/publish/", views.WidgetPublishApi.as_view(), name="api-widget-publish"),
    path("tags/", views.TagListApi.as_view(), name="api-tag-list"),
    path("invitations/", InvitationCreateApi.as_view(), name="api-invitation-create"),
    path("influence/", influence.InfluenceSummaryApi.as_view(), name="api-influence-summary"),
    path(
        "influence/testimonials/",
        influence.InfluenceTestimonialListApi.as_view(),
        name="api-influence-testimonial-list",
    ),
    path(
        "influence/testimonials/<pid:public_id>/",
        influence.InfluenceTestimonialDetailApi.as_view(),
        name="api-influence-testimonial-detail",
    ),
    path("influence/reviewers/", ReviewerInfluenceApi.as_view(), name="api-influence-reviewers"),
]
