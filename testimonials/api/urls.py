from django.urls import path

from testimonials.api import views
from testimonials.invitations.api import InvitationCreateApi

urlpatterns = [
    path("testimonials/", views.TestimonialListApi.as_view(), name="api-testimonial-list"),
    path("testimonials/<str:public_id>/", views.TestimonialDetailApi.as_view(), name="api-testimonial-detail"),
    path(
        "testimonials/<str:public_id>/approve/", views.TestimonialApproveApi.as_view(), name="api-testimonial-approve"
    ),
    path("testimonials/<str:public_id>/reject/", views.TestimonialRejectApi.as_view(), name="api-testimonial-reject"),
    path("summary/", views.RatingSummaryApi.as_view(), name="api-rating-summary"),
    path("invitations/", InvitationCreateApi.as_view(), name="api-invitation-create"),
]
