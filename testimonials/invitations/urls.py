"""Public invitation links (no login): the invitation itself and unsubscribing. Names follow <entity>-<action>."""

from django.urls import path

from testimonials.invitations import views

urlpatterns = [
    path("i/<str:token>/", views.invitation_open_view, name="invitation-open"),
    path("u/<str:token>/", views.invitation_unsubscribe_view, name="invitation-unsubscribe"),
]
