"""/api/v1/webhooks/: a brand's endpoints, their secrets and delivery logs (owners)."""

from django.urls import path

import testimonials.api.urls  # noqa: F401  (registers the pid path converter)
from testimonials.webhooks import api

urlpatterns = [
    path("", api.EndpointListApi.as_view(), name="api-webhook-list"),
    path("<pid:public_id>/", api.EndpointDetailApi.as_view(), name="api-webhook-detail"),
    path("<pid:public_id>/secret/", api.EndpointSecretApi.as_view(), name="api-webhook-secret"),
    path("<pid:public_id>/rotate-secret/", api.EndpointRotateSecretApi.as_view(), name="api-webhook-rotate-secret"),
    path("<pid:public_id>/deliveries/", api.DeliveryListApi.as_view(), name="api-webhook-delivery-list"),
    path(
        "<pid:public_id>/deliveries/<pid:delivery_id>/",
        api.DeliveryDetailApi.as_view(),
        name="api-webhook-delivery-detail",
    ),
    path(
        "<pid:public_id>/deliveries/<pid:delivery_id>/redeliver/",
        api.DeliveryRedeliverApi.as_view(),
        name="api-webhook-delivery-redeliver",
    ),
]
