from django.urls import path

from testimonials.api import views

urlpatterns = [
    path("testimonials/", views.TestimonialListApi.as_view(), name="api-testimonial-list"),
    path("testimonials/<str:public_id>/", views.TestimonialDetailApi.as_view(), name="api-testimonial-detail"),
    path(
        "testimonials/<str:public_id>/approve/", views.TestimonialApproveApi.as_view(), name="api-testimonial-approve"
    ),
    path("testimonials/<str:public_id>/reject/", views.TestimonialRejectApi.as_view(), name="api-testimonial-reject"),
    path("summary/", views.RatingSummaryApi.as_view(), name="api-rating-summary"),
]
