"""An invitation as a customer receives it: subject and body from the campaign's template, a multipart
plain-text + HTML message in the brand's look, the headers bulk senders must carry, and an optional
DKIM signature.

Templates are plain text with a fixed set of `{placeholders}`; they are never run as code (no
`str.format`, no Django template), so a brand's wording cannot reach attributes, and a customer's
name cannot add a header: values lose their line breaks before they reach the subject or a header.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from testimonials.invitations.addresses import one_line
from testimonials.models.base import text_colour_on

PLACEHOLDERS = ("customer_name", "product", "brand", "order_id", "link")
_PLACEHOLDER = re.compile(r"\{([^{}\n]{0,40})\}")
# Wording that asks only happy customers, or sends unhappy ones elsewhere, is review gating.
_GATING = re.compile(
    r"\bif\s+(?:you(?:'re|\s+are|\s+were|\s+have\s+been)?\s+)(?:not\s+)?"
    r"(?:happy|satisfied|pleased|delighted|unhappy|dissatisfied|disappointed|enjoyed|loved?|liked?)\b",
    re.IGNORECASE,
)
# The headers a DKIM signature covers: RFC 8058 requires List-Unsubscribe and -Post among them.
SIGNED_HEADERS = (
    b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"list-unsubscribe",
    b"list-unsubscribe-post", b"mime-version", b"content-type", b"content-language",
)  # fmt: skip


class TemplateProblem(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def template_check(text: str) -> None:
    """Refuse unknown placeholders and gating wording (FTC 16 CFR 465), with a message a brand can act on."""
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise TemplateProblem(f"{{{name}}} is not a placeholder. Use {known}.")
    found = _GATING.search(text)
    if found:
        raise TemplateProblem(
            f"“{found.group(0)}…” asks only some customers for a review. Invite everyone the same way: asking "
            "only happy customers, or steering unhappy ones elsewhere, is review gating (FTC 16 CFR 465)."
        )


def fill(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class Customer:
    """What a message says about its recipient (a Recipient, or a sample for the preview)."""

    name: str
    email: str
    product: str = ""
    order_id: str = ""
    locale: str = ""


@dataclass(frozen=True)
class Sender:
    brand_name: str
    from_name: str
    from_email: str
    reply_to: str
    accent: str
    logo_url: str = ""


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def render(
    *,
    subject: str,
    body: str,
    customer: Customer,
    sender: Sender,
    link: str,
    unsubscribe_url: str,
    incentive: str = "",
) -> Rendered:
    """Subject, plain text and HTML for one customer. Values are flattened for the subject and escaped for HTML."""
    values = {
        "customer_name": one_line(customer.name, 120) or "there",
        "product": one_line(customer.product, 200) or sender.brand_name,
        "brand": one_line(sender.brand_name, 120),
        "order_id": one_line(customer.order_id, 64),
        "link": link,
    }
    rendered_subject = one_line(fill(subject, values), 200)
    text_body = fill(body, values).strip()
    if "{link}" not in body:
        text_body += f"\n\n{link}"
    disclosure = ""
    if incentive:
        disclosure = f"As a thank-you for any review, positive or negative: {one_line(incentive, 200)}."
    text = render_to_string(
        "invitations/email.txt",
        {"body": text_body, "disclosure": disclosure, "unsubscribe_url": unsubscribe_url, "brand": values["brand"]},
    )
    html = render_to_string(
        "invitations/email.html",
        {
            "subject": rendered_subject,
            "paragraphs": _html_paragraphs(body, values),
            "link": link,
            "disclosure": disclosure,
            "unsubscribe_url": unsubscribe_url,
            "brand": values["brand"],
            "accent": sender.accent,
            "on_accent": text_colour_on(sender.accent),
            "logo_url": sender.logo_url,
            "lang": customer.locale or "en",
        },
    )
    return Rendered(subject=rendered_subject, text=text, html=html)


def _html_paragraphs(body: str, values: dict[str, str]) -> list[SafeString]:
    """The body as HTML paragraphs: every value escaped, `{link}` an anchor, line breaks kept."""
    link = format_html('<a href="{}" style="color:inherit">{}</a>', values["link"], values["link"])
    out = []
    for block in re.split(r"\n\s*\n", body.strip()):
        if block.strip() == "{link}":
            continue  # a line of its own: the button stands for it
        pieces = _PLACEHOLDER.split(block)
        html = []
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                html.append(escape(piece))
            elif piece == "link":
                html.append(link)
            else:
                html.append(escape(values.get(piece, "{" + piece + "}")))
        out.append(mark_safe("".join(html).replace("\n", "<br>")))  # noqa: S308 - every piece escaped above
    return out


# --------------------------------------------------------------------------- the message


@dataclass(frozen=True)
class Dkim:
    selector: str
    domain: str
    key: bytes


def dkim_from_settings() -> Dkim | None:
    """The DKIM key named by settings, or None when signing is off. Read once per process."""
    if not settings.VOUCH_DKIM_SELECTOR:
        return None
    return _dkim(settings.VOUCH_DKIM_SELECTOR, settings.VOUCH_DKIM_DOMAIN, settings.VOUCH_DKIM_PRIVATE_KEY_FILE)


@functools.cache
def _dkim(selector: str, domain: str, key_file: str) -> Dkim:
    key = Path(key_file).read_bytes() if key_file else settings.VOUCH_DKIM_PRIVATE_KEY.encode()
    domain = domain or settings.VOUCH_INVITE_FROM.rsplit("@", 1)[-1]
    return Dkim(selector=selector, domain=domain, key=key)


class _SignedMime:
    """A MIME message that serialises to the exact bytes that were signed, DKIM-Signature first.

    Re-serialising an email.message may fold headers differently; signing and sending the same
    bytes is the only way a signature stays valid. Everything else is the wrapped message's.
    """

    def __init__(self, mime, dkim_key: Dkim):
        import dkim

        self._mime = mime
        self._raw = mime.as_bytes(linesep="\r\n")
        self._signature = dkim.sign(
            self._raw,
            dkim_key.selector.encode(),
            dkim_key.domain.encode(),
            dkim_key.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[h for h in SIGNED_HEADERS if mime.get(h.decode()) is not None],
        )

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        signed = self._signature + self._raw
        return signed if linesep == "\r\n" else signed.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.as_bytes(linesep=linesep).decode("utf-8", "replace")

    def __getattr__(self, name):
        return getattr(self._mime, name)


class InvitationEmail(EmailMultiAlternatives):
    """Django's multipart message, DKIM-signed when a key is configured."""

    dkim_key: Dkim | None = None

    def message(self):
        mime = super().message()
        return _SignedMime(mime, self.dkim_key) if self.dkim_key is not None else mime


def new_message_id() -> str:
    return make_msgid(idstring="vouch", domain=settings.VOUCH_INVITE_FROM.rsplit("@", 1)[-1])


def build(
    rendered: Rendered,
    *,
    customer: Customer,
    sender: Sender,
    message_id: str,
    unsubscribe_url: str,
    envelope_from: str = "",
    feedback_id: str = "",
    resent: bool = False,
) -> InvitationEmail:
    """The message to hand to Django's mail backend (console, file, SMTP)."""
    headers = {
        "From": formataddr((one_line(sender.from_name, 80), sender.from_email)),
        "Message-ID": message_id,
        # RFC 8058 one-click unsubscribe: mail providers POST to the URL; a GET only shows a page.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if customer.locale:
        headers["Content-Language"] = customer.locale
    if feedback_id:
        headers["Feedback-ID"] = feedback_id
    if resent:
        # A person sent an interrupted message again: the same Message-ID (a receiver that already has
        # it can tell), with Resent-* fields (RFC 5322 3.6.6) saying when and that it is a resend.
        headers["Resent-Date"] = formatdate(localtime=False)
        headers["Resent-From"] = sender.from_email
        headers["Resent-Message-ID"] = new_message_id()
    email = InvitationEmail(
        subject=rendered.subject,
        body=rendered.text,
        from_email=envelope_from or sender.from_email,
        to=[formataddr((one_line(customer.name, 120), customer.email))],
        reply_to=[sender.reply_to] if sender.reply_to else None,
        headers=headers,
    )
    email.attach_alternative(rendered.html, "text/html")
    email.dkim_key = dkim_from_settings()
    return email
