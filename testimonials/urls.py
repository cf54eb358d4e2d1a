"""Public and brand-facing URLs. Names follow <entity>-<action>."""

from django.urls import include, path

from testimonials.analytics import views as analytics
from testimonials.collection import upload_views
from testimonials.collection import views as collect
from testimonials.influence import views as influence
from testimonials.widgets import views as widgets

urlpatterns: list = [
    # Collection (public): the customer's form, its thank-you page and resumable uploads.
    path("c/<slug:brand_slug>/<slug:form_slug>/", collect.collect_form, name="collect-form"),
    path("c/<slug:brand_slug>/<slug:form_slug>/thanks/", collect.collect_thanks, name="collect-thanks"),
    path(
        "c/<slug:brand_slug>/<slug:form_slug>/uploads/", upload_views.collect_upload_start, name="collect-upload-start"
    ),
    path(
        "c/<slug:brand_slug>/<slug:form_slug>/uploads/<str:upload_id>/",
        upload_views.collect_upload,
        name="collect-upload",
    ),
    # Widgets (public): the embed snippet, published widget files (nginx serves these in production)
    # and the hosted wall page, which is also the <noscript> fallback.
    path("embed.js", widgets.embed_script, name="widget-embed"),
    path("widgets/<str:public_id>/blocked", widgets.widget_blocked, name="widget-blocked"),
    # Analytics beacons (analytics/views.py): batched events, and the loader's hello for a holdout.
    path("widgets/<str:public_id>/events", analytics.beacon_events, name="analytics-events"),
    path("widgets/<str:public_id>/hello", analytics.beacon_hello, name="analytics-hello"),
    path("widgets/<str:public_id>/<str:name>", widgets.widget_file, name="widget-file"),
    path("w/<str:public_id>/", widgets.widget_wall, name="widget-wall"),
    # A testimonial's public page (what a reviewer shares), with its social preview tags.
    path("t/<str:public_id>/", influence.testimonial_public, name="testimonial-public"),
    # Invitations (public): the invitation link and one-click unsubscribe.
    path("", include("testimonials.invitations.urls")),
    # Team invitations (the invited person's link): sign in or set a password, then accept.
    path("", include("testimonials.members.urls")),
]
