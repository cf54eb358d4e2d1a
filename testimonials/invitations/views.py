"""The links in an invitation: the form (prefilled, email locked) and unsubscribing.

Public and cookie-free like the collection page. The invitation link opens the campaign's form
through the collection view itself (`collect_page`), with the customer the link vouches for; the
unsubscribe link shows a confirmation page on GET (link scanners follow GETs) and unsubscribes at
once on POST, which is what mail providers send for RFC 8058 one-click unsubscribe.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from testimonials.collection.fields import KnownCustomer
from testimonials.collection.views import collect_page
from testimonials.invitations.services import (
    InvitationRefused,
    invitation_open,
    invitation_unsubscribe,
    recipient_for_unsubscribe,
)
from testimonials.models.base import text_colour_on

# The page's look when a link names no brand we can show (forged, or its customer erased).
NO_BRAND = SimpleNamespace(name="Vouch", logo=None, accent_color="#4f46e5")


def _page(request: HttpRequest, template: str, *, brand=None, status: int = 200, **context) -> HttpResponse:
    brand = brand or NO_BRAND
    context = {"brand": brand, "accent": brand.accent_color, "on_accent": text_colour_on(brand.accent_color), **context}
    response = render(request, template, context, status=status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@csrf_exempt  # the form's signed page token protects the POST, as on the collection page
@xframe_options_exempt  # collect_page sets frame-ancestors to the brand's allowed domains
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_open_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        recipient = invitation_open(token=token, record_click=request.method != "HEAD")
    except InvitationRefused as refused:
        return _page(
            request, "invitations/refused.html", brand=refused.brand, status=refused.status, message=refused.message
        )
    known = KnownCustomer(
        key=recipient.submission_key, values={"author_name": recipient.name, "author_email": recipient.email}
    )
    response = collect_page(request, recipient.campaign.form, known=known)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt  # mail providers POST here without cookies (RFC 8058); the signed token is the proof
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        recipient = recipient_for_unsubscribe(token=token)
    except InvitationRefused as refused:
        return _page(request, "invitations/refused.html", status=400, message=refused.message)
    brand = recipient.brand if recipient is not None else None
    if request.method != "POST":
        # A confirmation only: link scanners and previews follow GETs, and must not unsubscribe anyone.
        return _page(request, "invitations/unsubscribe.html", brand=brand, done=recipient is None)
    if recipient is not None:
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        invitation_unsubscribe(recipient=recipient, how="one-click" if one_click else "confirmation page")
    return _page(request, "invitations/unsubscribe.html", brand=brand, done=True)
