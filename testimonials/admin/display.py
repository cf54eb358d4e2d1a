"""Small HTML pieces for the moderation screens. Everything a customer wrote is escaped here."""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from testimonials.models import MediaAsset, Testimonial
from testimonials.moderation import flags as flag_codes

EXCERPT_LENGTH = 160


def stars(rating: int | None) -> SafeString:
    if not rating:
        return format_html('<span class="vouch-muted">{}</span>', "no rating")
    return format_html(
        '<span class="vouch-stars" title="{} of 5" aria-label="{} of 5 stars">{}<span class="off">{}</span></span>',
        rating,
        rating,
        "★" * rating,
        "★" * (5 - rating),
    )


def evidence_of(flags: list) -> list[str]:
    """The words flags found in the text, to mark where they occur (flags.py says which flags find words)."""
    return flag_codes.text_evidence(flags)


def marked(text: str, words: list[str]) -> SafeString:
    """`text` escaped, with every occurrence of the flagged `words` wrapped in <mark>."""
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(format_html("<mark>{}</mark>", match.group(0)))
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped


def excerpt(text: str, flags: list, length: int = EXCERPT_LENGTH) -> SafeString:
    """A short excerpt around the first flagged word, so the reason is visible without opening the item."""
    text = " ".join((text or "").split())
    words = evidence_of(flags)
    start = 0
    if words and len(text) > length:
        lowered = text.lower()
        hits = [i for i in (lowered.find(w.lower()) for w in words) if i >= 0]
        if hits:
            start = max(0, min(hits) - length // 3)
    piece = text[start : start + length]
    prefix = "… " if start else ""
    suffix = " …" if start + length < len(text) else ""
    return format_html("{}{}{}", prefix, marked(piece, words), suffix)


def sentiment_badge(item: Testimonial) -> SafeString:
    """The label, with the text's own score, and the reason on hover (a language Vouch cannot read: "Not scored")."""
    if not item.sentiment_label:
        return format_html('<span class="vouch-muted" title="{}">{}</span>', "Not analysed yet.", "—")
    score = "" if item.sentiment_score is None else f" {item.sentiment_score:+.2f}"
    return format_html(
        '<span class="vouch-badge sentiment-{}" title="{}">{}{}</span>',
        item.sentiment_label,
        item.sentiment_reason,
        item.get_sentiment_label_display(),
        score,
    )


def topic_chips(topics: list, labels: dict[str, str]) -> SafeString:
    """One chip per topic, coloured by what is said about it, the quote on hover."""
    chips = [
        (t.get("polarity", ""), t.get("quote", ""), labels.get(t.get("code", "")) or t.get("code", ""))
        for t in topics or []
        if isinstance(t, dict) and t.get("code")
    ]
    return format_html_join(" ", '<span class="vouch-topic topic-{}" title="{}">{}</span>', chips)


def state_badge(item: Testimonial) -> SafeString:
    return format_html('<span class="vouch-badge state-{}">{}</span>', item.state, item.get_state_display())


def flag_chips(flags: list) -> SafeString:
    chips = [
        (f.get("code", ""), flag_codes.label(f.get("code", "") or "flag"), f.get("reason", ""))
        for f in flags or []
        if isinstance(f, dict)
    ]
    return format_html_join(
        " ", '<span class="vouch-flag flag-{}" title="{}">{}</span>', ((c, r, lbl) for c, lbl, r in chips)
    )


def _url(asset: MediaAsset, *names: str) -> str | None:
    derivatives = asset.derivatives or {}
    for name in names:
        keys = [k for k in derivatives if k == name or (name.endswith("*") and k.startswith(name[:-1]))]
        for key in keys:
            info = derivatives[key]
            path = info.get("path") if isinstance(info, dict) else info
            if path:
                return default_storage.url(path)
    return None


def thumbnail_url(asset: MediaAsset) -> str | None:
    if asset.kind == MediaAsset.Kind.VIDEO:
        return _url(asset, "poster.jpg", "poster*")
    return _url(asset, "thumb*", "card.webp", "card*", "avatar.webp", "avatar*", "full*")


def media_thumb(item: Testimonial) -> SafeString:
    """A thumbnail (photo) or poster (video) for the list; uses the prefetched `media`."""
    assets = list(item.media.all())
    if not assets:
        return format_html('<span class="vouch-muted">{}</span>', "—")
    asset = next((a for a in assets if a.kind == MediaAsset.Kind.VIDEO), None) or assets[0]
    label = asset.get_kind_display()
    if asset.status != MediaAsset.Status.READY:
        return format_html('<span class="vouch-badge media-{}">{} {}</span>', asset.status, label, _status_text(asset))
    url = thumbnail_url(asset)
    if not url:
        return format_html('<span class="vouch-badge">{}</span>', label)
    play = mark_safe('<span class="vouch-play" aria-hidden="true">▶</span>') if asset.kind == "video" else ""
    return format_html(
        '<span class="vouch-thumb"><img src="{}" alt="{}" loading="lazy" width="56" height="56">{}</span>',
        url,
        label,
        play,
    )


def _status_text(asset: MediaAsset) -> str:
    if asset.status == MediaAsset.Status.PROCESSING:
        return f"{asset.progress}%"
    return asset.get_status_display().lower()


def media_preview(asset: MediaAsset) -> SafeString:
    """The change page's preview: a photo, an HTML5 player with its poster, or processing progress."""
    if asset.status in (MediaAsset.Status.PENDING, MediaAsset.Status.PROCESSING):
        return format_html(
            '<div class="vouch-media-progress" data-vouch-refresh="5">'
            '<label>{} {}: <progress max="100" value="{}">{}%</progress> {}%</label></div>',
            asset.get_kind_display(),
            asset.get_status_display().lower(),
            asset.progress,
            asset.progress,
            asset.progress,
        )
    if asset.status == MediaAsset.Status.FAILED:
        return format_html(
            '<div class="vouch-media-failed">{} failed: {}</div>',
            asset.get_kind_display(),
            asset.error or "no reason recorded",
        )
    if asset.kind == MediaAsset.Kind.VIDEO:
        video, poster = _url(asset, "video.mp4", "video*"), _url(asset, "poster.jpg", "poster*")
        duration = f"{asset.duration_seconds:.0f} s" if asset.duration_seconds else ""
        if not video:
            return format_html('<div class="vouch-media-failed">{}</div>', "Video ready but no playable rendition.")
        return format_html(
            '<figure class="vouch-media"><video controls preload="none" playsinline src="{}" poster="{}"'
            ' width="480"></video><figcaption>Video {}</figcaption></figure>',
            video,
            poster or "",
            duration,
        )
    url = _url(asset, "card.webp", "card*", "avatar.webp", "avatar*", "full*", "thumb*")
    if not url:
        return format_html('<div class="vouch-media-failed">{}</div>', "Photo ready but no rendition.")
    return format_html(
        '<figure class="vouch-media"><img src="{}" alt="{}" loading="lazy"><figcaption>{}</figcaption></figure>',
        url,
        asset.get_kind_display(),
        asset.get_kind_display(),
    )


_REFERENCE = re.compile(r"^testimonial #(\d+)$")
# Sentence ends, Latin and CJK (ideographic full stop, fullwidth ! and ?).
_SENTENCE = re.compile("[^.!?\u3002\uff01\uff1f]+[.!?\u3002\uff01\uff1f]*")


def referenced_testimonials(item: Testimonial) -> dict[str, str]:
    """Flag evidence naming another testimonial ("testimonial #13") -> the admin page of that testimonial,
    only when it belongs to the same brand: another brand's is never named nor linked (one query)."""
    ids = {
        int(match.group(1))
        for flag in item.flags or []
        if isinstance(flag, dict)
        for word in flag.get("evidence") or []
        if (match := _REFERENCE.match(str(word)))
    }
    if not ids:
        return {}
    same_brand = Testimonial.objects.filter(id__in=ids, brand_id=item.brand_id).values_list("id", "author_name")
    return {
        f"testimonial #{pk}": format_html(
            '<a href="{}">the testimonial from {}</a>',
            reverse("admin:testimonials_testimonial_change", args=[pk]),
            name,
        )
        for pk, name in same_brand
    }


def evidence(words: list, linked: dict[str, str]) -> SafeString:
    """A flag's evidence: a link for a testimonial it names (same brand only), marked words otherwise."""
    parts = []
    for word in words:
        text = str(word)
        if text in linked:
            parts.append(linked[text])
        elif _REFERENCE.match(text):
            parts.append(format_html("{}", "another testimonial (no longer available)"))
        else:
            parts.append(format_html("<mark>{}</mark>", text))
    return format_html_join(", ", "{}", ((p,) for p in parts))


def sentences(text: str, limit: int = 8) -> list[str]:
    """Candidate highlights: the text's sentences, longest quotable ones first (at most 300 characters)."""
    found = [s.strip() for s in _SENTENCE.findall(text or "") if 20 <= len(s.strip()) <= 300]
    return sorted(dict.fromkeys(found), key=len, reverse=True)[:limit]
