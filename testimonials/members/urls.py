from django.urls import path

from testimonials.members import views

urlpatterns = [
    path("members/join/<str:token>/", views.member_join, name="member-join"),
]
