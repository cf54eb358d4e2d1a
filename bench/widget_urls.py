"""The per-view JSON endpoint, the way peers serve widgets: one database read and one JSON
rendering per page view. Only for the benchmark; Vouch itself never serves widgets this way."""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as vouch_urlpatterns
from testimonials.models import Widget
from testimonials.widgets.render import widget_data


def widget_json(request, public_id: str):
    widget = Widget.objects.select_related("brand").get(public_id=public_id)
    return JsonResponse(widget_data(widget))


urlpatterns = [path("bench/widget-json/<str:public_id>", widget_json, name="bench-widget-json"), *vouch_urlpatterns]
