"""The public page of one testimonial (/t/<public id>/): what a reviewer shares.

Public, no login, no cookie. Only an approved testimonial has one; anything else (waiting, rejected,
unpublished, erased, unknown) is a plain 404, so a page that existed says nothing once it is gone.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from testimonials.collection.views import REFERRAL_PARAM, share_url
from testimonials.influence.models import ShareImage
from testimonials.models import CollectionForm, Testimonial
from testimonials.models.base import text_colour_on
from testimonials.widgets.render import item_data

PUBLIC_PAGE_CSP = (
    "default-src 'self'; img-src 'self' https: data:; media-src 'self' https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"
)
# Short: an erased or unpublished testimonial's page must not outlive it for long in a shared cache.
PUBLIC_PAGE_MAX_AGE = 60


def _absolute(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else f"{settings.PUBLIC_URL}{url}"


@require_safe
def testimonial_public(request: HttpRequest, public_id: str) -> HttpResponse:
    item = (
        Testimonial.objects.published()
        .select_related("brand", "form")
        .prefetch_related("media")
        .filter(public_id=public_id[:16])
        .first()
    )
    if item is None:
        raise Http404("No such testimonial.")
    brand = item.brand
    data = item_data(item)
    form = item.form if item.form and item.form.is_active else None
    form = form or CollectionForm.objects.filter(brand=brand, is_active=True).order_by("-created_at", "-id").first()
    # The reviewer's code rides along to the brand's site, where embed.js counts the arrival.
    code = request.GET.get(REFERRAL_PARAM, "")[:16]
    code = code if code == item.referral_code else ""
    website = share_url(brand.website, code) if brand.website and code else brand.website
    image = ShareImage.objects.filter(testimonial=item).first()
    page_url = f"{settings.PUBLIC_URL}{reverse('testimonial-public', args=[item.public_id])}"
    quote = data["highlight"] or data["text"]
    context = {
        "brand": brand,
        "item": data,
        "stars": [i < (item.rating or 0) for i in range(5)],
        "accent": brand.accent_color,
        "on_accent": text_colour_on(brand.accent_color),
        "form_url": (
            f"{settings.PUBLIC_URL}{reverse('collect-form', args=[brand.slug, form.slug])}"
            + (f"?{urlencode({REFERRAL_PARAM: code})}" if code else "")
            if form
            else ""
        ),
        "website": website,
        "language": item.language or "en",
        "page_url": page_url,
        "og_title": f"{item.author_name} on {brand.name}",
        "og_description": (quote[:197] + "…") if len(quote) > 200 else quote,
        "og_image": _absolute(default_storage.url(image.path)) if image else "",
    }
    response = render(request, "testimonials/influence/public.html", context)
    response.headers["Content-Security-Policy"] = PUBLIC_PAGE_CSP
    patch_cache_control(response, public=True, max_age=PUBLIC_PAGE_MAX_AGE)
    return response
