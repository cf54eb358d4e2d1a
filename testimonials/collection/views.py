"""The public collection page /c/<brand>/<form>/ and its thank-you page.

Public and cookie-free: no session, no CSRF cookie (browsers drop third-party cookies inside a
brand's iframe). The signed form token stands in for both: it proves the page came from us,
measures the fill time, and is the idempotency key that makes a double submit store one row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from testimonials import outages
from testimonials.collection import abuse
from testimonials.collection.fields import BY_NAME, KnownCustomer, mode_of
from testimonials.collection.forms import TestimonialForm
from testimonials.collection.submission import MediaUpload, testimonial_submit
from testimonials.collection.uploads import (
    CHUNK_MAX_BYTES,
    FORM_OVERHEAD_BYTES,
    MEDIA_KINDS,
    kind_limit,
    upload_session_delete,
    upload_session_open,
)
from testimonials.errors import ApplicationError
from testimonials.models import CollectionForm, FieldMode
from testimonials.models.base import text_colour_on
from testimonials.moderation import flags as flag_codes
from testimonials.security import frame_ancestors, page_csp
from testimonials.selectors import (
    collection_form_get_public,
    testimonial_public_id_for_referral,
    testimonial_referral_code_exists,
    testimonial_referral_code_for_submission,
)
from testimonials.spool import services as spool

log = logging.getLogger(__name__)

REFERRAL_PARAM = "vouch_ref"


# --------------------------------------------------------------------------- helpers


def embeddable(response: HttpResponse, form: CollectionForm) -> HttpResponse:
    """Framing allowed only from the brand's allowed domains; everything else as strict as any page."""
    response.headers["Content-Security-Policy"] = page_csp(frame_ancestors(form.brand.allowed_domains))
    # The recorder needs the camera and microphone, also when framed (with allow="camera; microphone").
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(self), geolocation=()"
    return response


def page_language(request: HttpRequest, form: CollectionForm) -> str:
    """The form's own language, or else the visitor's (Accept-Language; no cookie is ever set)."""
    return form.language or translation.get_language_from_request(request)


def in_page_language(response_for):
    """Render a customer page in its language, saying which (and that it varies) in the headers."""

    def wrapped(request: HttpRequest, form: CollectionForm, *args, **kwargs) -> HttpResponse:
        language = page_language(request, form)
        with translation.override(language):
            response = response_for(request, form, *args, **kwargs)
        response.headers["Content-Language"] = language
        if not form.language:
            patch_vary_headers(response, ["Accept-Language"])
        return response

    return wrapped


def js_strings() -> dict[str, str]:
    """What collect.js says, in the page's language ({placeholders} are filled in by the script)."""
    return {
        "characters": _("{n} / {max} characters"),
        "characters_no_max": _("{n} characters"),
        "at_least": _("(at least {min})"),
        "over": _("{over} characters over the limit: please shorten it."),
        "uploading": _("Uploading your video…"),
        "retrying": _("Connection lost. Retrying from {pct}%…"),
        "ready": _("Your video is ready ✓"),
        "upload_not_started": _("The upload could not start."),
        "upload_refused": _("The upload was refused."),
        "upload_expired": _("The upload expired."),
        "camera_denied": _(
            "Camera access was denied. To record here, allow the camera and microphone in your browser's site "
            "settings and press Record again. Or upload a video file below."
        ),
        "camera_missing": _("We could not find a camera or microphone. You can upload a video file below instead."),
        "camera_busy": _(
            "Your camera is being used by another app. Close it and press Record again, or upload a video file below."
        ),
        "camera_failed": _("Your camera could not be started. You can upload a video file below instead."),
        "no_recording": _("Recording is not available in this browser: upload a video file instead."),
        "asking_camera": _("Asking for your camera…"),
        "countdown": _("Recording starts in 3 seconds. You have up to {time}."),
        "recording": _("Recording. Press Stop when you are done."),
        "video_too_big": _("This video is larger than {mb} MB. Please choose a shorter or smaller one."),
        "file_too_big": _("This file is larger than {mb} MB. Please choose a smaller one."),
        "selected": _("Selected: {name}"),
        "stop_first": _("Please stop the recording first."),
        "finishing": _("Finishing your video upload…"),
        "sending": _("Sending…"),
        "unreachable": _("We could not reach the server. Your testimonial is still here: press Send again."),
        "trying_again": _("Connection lost. Trying again…"),
        "not_saved_yet": _(
            "We couldn't save your testimonial just yet. It is still here, and we will send it again in {s} seconds."
        ),
        "robot_check": _("Checking that you are not a robot…"),
        "copied": _("Link copied ✓"),
        "step": _("Step {n} of {total}: {name}"),
    }


def _media_limits(form: CollectionForm) -> dict[str, int]:
    return {kind: kind_limit(kind) for kind in MEDIA_KINDS if mode_of(form, BY_NAME[kind]) != FieldMode.OFF}


def _page_context(request: HttpRequest, form: CollectionForm, **extra) -> dict:
    brand = form.brand
    accent = form.accent_color or brand.accent_color
    background = form.background_color or "#f6f7f9"
    return {
        "collection_form": form,
        "brand": brand,
        "logo": form.logo or brand.logo,
        "accent": accent,
        "on_accent": text_colour_on(accent),
        "background": background,
        "on_background": text_colour_on(background),
        "embedded": request.GET.get("embed") == "1",
        **extra,
    }


def _render_form(
    request: HttpRequest,
    form: CollectionForm,
    bound: TestimonialForm | None = None,
    *,
    token: str | None = None,
    status: int = 200,
    notice: str = "",
    known: KnownCustomer | None = None,
) -> HttpResponse:
    if bound is None:
        referral = request.GET.get(REFERRAL_PARAM) or request.GET.get("ref") or ""
        bound = TestimonialForm(collection_form=form, initial={"ref": referral[:16]}, known=known)
    bound.describe_fields()
    text_hint = ""
    if form.text_min_length:
        text_hint = _("At least %(min)d characters, up to %(max)d.") % {
            "min": form.text_min_length,
            "max": form.text_max_length,
        }
    context = _page_context(
        request,
        form,
        f=bound,
        token=token or abuse.form_token_issue(form_id=form.id),
        notice=notice,
        kept=bound.kept_media() if bound.is_bound else {},
        question_fields=[bound[spec.name] for spec in bound.questions],
        button_text=form.button_text or _("Send my testimonial"),
        limits={kind: limit // (1024 * 1024) for kind, limit in _media_limits(form).items()},
        limits_bytes=_media_limits(form),
        chunk_bytes=min(CHUNK_MAX_BYTES, 2 * 1024 * 1024),
        honeypot=abuse.HONEYPOT_FIELD,
        text_hint=text_hint,
        captcha=abuse.captcha_verifier(),
        js_strings=js_strings(),
    )
    response = render(request, "testimonials/collect/form.html", context, status=status)
    return embeddable(response, form)


def _too_many(
    request: HttpRequest, form: CollectionForm, retry_after: int, known: KnownCustomer | None
) -> HttpResponse:
    """429, friendly, and with everything they typed shown again (files are not read at all)."""
    request.upload_limits = {}
    typed = {k: v for k, v in request.POST.items() if k not in ("token", abuse.HONEYPOT_FIELD)}
    bound = TestimonialForm(collection_form=form, initial=typed, known=known)
    token = request.POST.get("token", "")
    try:
        abuse.form_token_read(token, form_id=form.id)
    except abuse.TokenProblem:
        token = ""
    minutes = max(1, round(retry_after / 60))
    notice = ngettext(
        "Thank you for your enthusiasm! We received several testimonials from your connection in a short "
        "time, so we are pausing new ones. Your text is still here: please send it again in about %(n)d minute.",
        "Thank you for your enthusiasm! We received several testimonials from your connection in a short "
        "time, so we are pausing new ones. Your text is still here: please send it again in about %(n)d minutes.",
        minutes,
    ) % {"n": minutes}
    response = _render_form(request, form, bound, token=token or None, status=429, notice=notice)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _thanks_url(form: CollectionForm, referral_code: str | None, request: HttpRequest) -> str:
    url = reverse("collect-thanks", kwargs={"brand_slug": form.brand.slug, "form_slug": form.slug})
    query = {}
    if referral_code:
        query["r"] = referral_code
    if request.GET.get("embed") == "1":
        query["embed"] = "1"
    return f"{url}?{urlencode(query)}" if query else url


# --------------------------------------------------------------------------- the page


@csrf_exempt  # the signed form token protects the POST; see the module docstring
@xframe_options_exempt  # framing is governed by CSP frame-ancestors (the brand's allowed domains)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def collect_form(request: HttpRequest, brand_slug: str, form_slug: str) -> HttpResponse:
    form = _public_form(brand_slug=brand_slug, form_slug=form_slug)
    return collect_page(request, form)


def _public_form(*, brand_slug: str, form_slug: str) -> CollectionForm:
    """The public form: the copy this process loaded in the last few seconds, else the database's; while
    the database is down, the last copy this process loaded (testimonials/spool)."""
    form = spool.form_fresh(brand_slug=brand_slug, form_slug=form_slug)
    if form is not None:
        return form
    try:
        form = collection_form_get_public(brand_slug=brand_slug, form_slug=form_slug)
    except DatabaseError:
        form = spool.form_remembered(brand_slug=brand_slug, form_slug=form_slug)
        if form is None:
            raise
        return form
    spool.form_remember(form)
    return form


@in_page_language
def collect_page(request: HttpRequest, form: CollectionForm, *, known: KnownCustomer | None = None) -> HttpResponse:
    """The form page, shown (GET) or sent (POST), in its language. A signed link that vouches for the
    customer (an invitation, testimonials/invitations/views.py) passes `known`: its fields come
    prefilled and locked."""
    if request.method != "POST":
        return _render_form(request, form, known=known)
    try:
        return _submit(request, form, known)
    except Exception as exc:
        if not outages.is_infrastructure_error(exc):
            raise
        return _not_saved_yet(request, form, known, exc)


def _submit(request: HttpRequest, form: CollectionForm, known: KnownCustomer | None = None) -> HttpResponse:
    """Guard, validate, store, respond. Every refusal shows the form again with what was typed."""
    refused = _guard(request, form, known)
    if refused is not None:
        return refused
    checked = _validate(request, form, known)
    if isinstance(checked, HttpResponse):
        abuse.rate_give_back(request, scope="submit")  # shown again for a mistake: not a use
        return checked
    try:
        item = _store(checked, form)
    except ApplicationError as error:
        abuse.rate_give_back(request, scope="submit")
        checked.bound.add_error(error.field if error.field in checked.bound.fields else None, error.message)
        return _invalid(request, form, checked.bound, token=checked.token_text)
    for accepted in checked.bound.accepted_media.values():
        if accepted.session is not None:
            upload_session_delete(accepted.session)
    return HttpResponseRedirect(_thanks_url(form, item.referral_code, request), status=303)


@dataclass
class _Checked:
    """A submission that passed every check, ready for the service."""

    bound: TestimonialForm
    token: abuse.FormToken
    token_text: str
    flags: list[dict]


def _guard(request: HttpRequest, form: CollectionForm, known: KnownCustomer | None) -> HttpResponse | None:
    """Refusals that need no reading of the form: the rate limit, an oversized body, the honeypot."""
    wait = abuse.rate_take(request, scope="submit")  # counted first, atomically: parallel sends cannot race it
    if wait is not None:
        return _too_many(request, form, wait, known)
    limits = _media_limits(form)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > sum(limits.values()) + FORM_OVERHEAD_BYTES:
        # Refused before reading a byte of it; nothing could be parsed, so nothing can be kept.
        notice = _("Your files are too large to send. Please choose smaller ones.")
        abuse.rate_give_back(request, scope="submit")
        return _render_form(request, form, status=413, notice=notice, known=known)
    # Read by LimitedUploadHandler while the body streams in.
    request.upload_limits = limits
    if abuse.honeypot_filled(request.POST):
        log.info("Honeypot filled on %s; nothing stored.", form)
        return HttpResponseRedirect(_thanks_url(form, None, request), status=303)
    return None


def _validate(request: HttpRequest, form: CollectionForm, known: KnownCustomer | None) -> _Checked | HttpResponse:
    """The page token, a double submit, every field, the fill time and the captcha."""
    data, files = request.POST, request.FILES
    refusals = getattr(request, "upload_refusals", {})
    bound = TestimonialForm(data, files, collection_form=form, upload_refusals=refusals, known=known)
    token_text = data.get("token", "")
    try:
        token = abuse.form_token_read(token_text, form_id=form.id)
    except abuse.TokenProblem as problem:
        bound.is_valid()
        return _invalid(request, form, bound, notice=problem.message)
    # A second click, a reload or a retry after a lost response: the same page is stored once (the
    # service returns the first row). With kept uploads, answer before looking for their sessions:
    # the first submit consumed them.
    if any(data.get(f"{kind}_upload") for kind in MEDIA_KINDS):
        key = known.key if known is not None else token.submission_key
        existing = testimonial_referral_code_for_submission(submission_key=key, form=form)
        if existing is not None:
            return HttpResponseRedirect(_thanks_url(form, existing, request), status=303)
    if not bound.is_valid():
        return _invalid(request, form, bound, token=token_text)
    try:
        abuse.form_token_check_fill_time(token)
    except abuse.TokenProblem as problem:
        return _invalid(request, form, bound, token=token_text, notice=problem.message)
    flags = []
    verifier = abuse.captcha_verifier()
    if verifier is not None:
        try:
            if not verifier.verify(request):
                return _invalid(request, form, bound, token=token_text, notice=_("Please complete the check below."))
        except abuse.CaptchaUnavailable:
            # Keep the testimonial but never publish it without a person looking at it.
            flags.append(
                {
                    "code": flag_codes.CAPTCHA_UNAVAILABLE,
                    "reason": "The anti-spam check could not be reached when this was sent.",
                    "action": "hold",
                    "evidence": [],
                }
            )
    return _Checked(bound=bound, token=token, token_text=token_text, flags=flags)


def _store(checked: _Checked, form: CollectionForm):
    """The one service call, with kept uploads opened for it and closed after."""
    opened = []
    try:
        media = []
        for kind, accepted in checked.bound.accepted_media.items():
            file = accepted.file
            if file is None:
                file = upload_session_open(accepted.session)
                opened.append(file)
            media.append(MediaUpload(kind, file, accepted.original_name, accepted.content_type))
        submission = checked.bound.submission_data(
            submission_key=checked.token.submission_key, media=media, flags=checked.flags
        )
        try:
            return testimonial_submit(form=form, data=submission)
        except Exception as exc:
            # The database or the originals' disk is down: the spool keeps it durably (or raises).
            if not outages.is_infrastructure_error(exc) or submission.known is not None:
                raise
            log.warning("Could not store a submission to form %s; spooling it.", form.id, exc_info=exc)
            return spool.submission_spool(form=form, data=submission)
    finally:
        for file in opened:
            file.close()


def _not_saved_yet(
    request: HttpRequest, form: CollectionForm, known: KnownCustomer | None, exc: BaseException
) -> HttpResponse:
    """503, friendly, with everything typed shown again: neither the database nor the spool could keep it."""
    log.error("Could not store or spool a submission to form %s.", form.id, exc_info=exc)
    request.upload_limits = {}
    typed = {k: v for k, v in request.POST.items() if k not in ("token", abuse.HONEYPOT_FIELD)}
    bound = TestimonialForm(collection_form=form, initial=typed, known=known)
    notice = _(
        "We couldn't save your testimonial just yet: our storage is briefly unavailable. Nothing is lost: your "
        "text is still here. Please press Send again in a minute."
    )
    response = _render_form(request, form, bound, token=request.POST.get("token") or None, status=503, notice=notice)
    response.headers["Retry-After"] = "30"
    return response


def _invalid(
    request: HttpRequest, form: CollectionForm, bound: TestimonialForm, *, token: str | None = None, notice: str = ""
) -> HttpResponse:
    """The form again, with every message next to its field and everything typed (and attached) kept."""
    bound.keep_accepted_files()
    return _render_form(request, form, bound, token=token, status=400, notice=notice)


# --------------------------------------------------------------------------- thank you


def share_url(target: str, referral_code: str) -> str:
    """The brand's site with the reviewer's referral code, which analytics counts on arrival."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != REFERRAL_PARAM]
    query.append((REFERRAL_PARAM, referral_code))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


@xframe_options_exempt
@never_cache
@require_safe
def collect_thanks(request: HttpRequest, brand_slug: str, form_slug: str) -> HttpResponse:
    form = _public_form(brand_slug=brand_slug, form_slug=form_slug)
    return _thanks(request, form)


@in_page_language
def _thanks(request: HttpRequest, form: CollectionForm) -> HttpResponse:
    share = None
    code = request.GET.get("r", "")[:16]
    website = form.brand.website
    # Published already (an auto-approving brand): the testimonial's own page, whose preview shows the
    # quote; else the brand's site. Either carries the code, which embed.js counts on the brand's site.
    url = ""
    public_id = testimonial_public_id_for_referral(code=code, form=form) if code else None
    if public_id:
        url = share_url(f"{settings.PUBLIC_URL}{reverse('testimonial-public', args=[public_id])}", code)
    elif code and website and testimonial_referral_code_exists(code=code, form=form):
        url = share_url(website, code)
    if url:
        text = _("I just left a testimonial for %(brand)s. Check them out:") % {"brand": form.brand.name}
        share = {
            "url": url,
            "label": url.split("?")[0],
            "x": f"https://x.com/intent/post?text={quote(text)}&url={quote(url, safe='')}",
            "linkedin": f"https://www.linkedin.com/sharing/share-offsite/?url={quote(url, safe='')}",
            "facebook": f"https://www.facebook.com/sharer/sharer.php?u={quote(url, safe='')}",
        }
    context = _page_context(
        request, form, share=share, moderated=not form.brand.auto_approve, sent=bool(code), js_strings=js_strings()
    )
    response = render(request, "testimonials/collect/thanks.html", context)
    return embeddable(response, form)
