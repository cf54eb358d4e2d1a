from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from testimonials.api.problems import api_not_found
from testimonials.observability.views import metrics_view, readyz
from testimonials.renditions.views import serve_public_media
from testimonials.views.health import healthz
from testimonials.views.home import home

admin.site.site_header = "Vouch"
admin.site.site_title = "Vouch"
admin.site.index_title = "Your workspace"
admin.site.site_url = "/"
# The workspace's own navigation (templates/admin/base_site.html) replaces the sidebar, which took a
# fifth of a laptop screen from the moderation queue.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # The OpenAPI 3 schema, generated from the views, and its docs page (Swagger UI served from /static/;
    # the split view keeps its script out of the page, so the page's CSP needs no 'unsafe-inline').
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/webhooks/", include("testimonials.webhooks.urls")),
    path("api/v1/imports/", include("testimonials.imports.urls")),
    path("api/v1/", include("testimonials.api.urls")),
    re_path(r"^api/", api_not_found, name="api-not-found"),
    path("", include("testimonials.urls")),
]

if settings.SERVE_MEDIA:
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{prefix}(?P<path>.+)$", serve_public_media, name="media-public"))
