"""Influence in the brand workspace: the share image download on a testimonial's page, and the
reviewers table (whose share links brought visitors and buyers). Both register with the workspace
(admin/dashboard.py), as analytics' Influence page does; TestimonialAdmin serves them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse

from testimonials.admin.dashboard import register_change_panel, register_page
from testimonials.admin.scoping import roles_for, scope
from testimonials.influence.models import ShareImage
from testimonials.influence.selectors import reviewer_influence_list
from testimonials.models import Brand, Testimonial


def share_context(item: Testimonial) -> dict:
    """What the testimonial's change page shows about sharing: its public page and its image."""
    if item.state != Testimonial.State.APPROVED:
        return {}
    image = ShareImage.objects.filter(testimonial=item).first()
    return {
        "page": reverse("testimonial-public", args=[item.public_id]),
        "image": reverse("admin:testimonials_testimonial_share_image", args=[item.pk]) if image else "",
    }


def share_panel(request, item: Testimonial) -> str:
    """The testimonial page's share section: its public page and the image download, once published."""
    share = share_context(item)
    return render_to_string("admin/influence/_share.html", {"share": share}, request=request) if share else ""


def share_image_download(admin, request, object_id: int):
    """The share image as a download, for the brand's own social posts (members of its brand only)."""
    item = get_object_or_404(admin.get_queryset(request), pk=object_id)
    image = ShareImage.objects.filter(testimonial=item, testimonial__state=Testimonial.State.APPROVED).first()
    if image is None:
        raise Http404("This testimonial has no share image (it is not published, or it is still being drawn).")
    try:
        handle = default_storage.open(image.path, "rb")
    except OSError:
        raise Http404("The share image is being drawn again.") from None
    return FileResponse(
        handle, as_attachment=True, filename=f"testimonial-{item.public_id}.png", content_type="image/png"
    )


def reviewers_view(admin, request):
    """Per reviewer: shares clicked, arrivals, conversions and value, for the chosen brand and period."""
    roles = roles_for(request)
    if not roles.any():
        raise PermissionDenied
    brands = list(scope(Brand.objects.order_by("name"), request, path="pk"))
    chosen = request.GET.get("brand", "")
    brand = next((b for b in brands if str(b.pk) == chosen), brands[0] if brands else None)
    if brand is None:
        raise Http404
    days = request.GET.get("days", "90")
    days = int(days) if days.isdigit() and 1 <= int(days) <= 3650 else 90
    context = {
        **admin.admin_site.each_context(request),
        "title": "Reviewers who bring buyers",
        "opts": admin.model._meta,
        "brands": brands,
        "brand": brand,
        "days": days,
        "rows": reviewer_influence_list(brand=brand, days=days),
    }
    return TemplateResponse(request, "admin/influence/reviewers.html", context)


register_page("share_image", "<int:object_id>/share-image.png", share_image_download)
register_page("reviewers", "reviewers/", reviewers_view)
register_change_panel("share", share_panel)
