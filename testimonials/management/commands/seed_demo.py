"""Create the demo brand, its form, a dozen testimonials, a widget and an admin login. Idempotent."""

from __future__ import annotations

import io
import secrets
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image, ImageDraw

from testimonials.collection.submission import MediaUpload, SubmissionData, testimonial_submit
from testimonials.models import (
    Brand,
    BrandTopic,
    CollectionForm,
    FormQuestion,
    MediaAsset,
    Membership,
    Testimonial,
    Widget,
)
from testimonials.security import origin_normalise

# (name, title, company, rating, text): mixed ratings and feelings, as a real inbox has.
DEMO_TESTIMONIALS = [
    (
        "Amara Okafor",
        "Head of Growth",
        "Brightloop",
        5,
        "Setting this up took ten minutes and our conversion rate on the pricing page went up within a week. "
        "The support team answered every question the same day.",
    ),
    (
        "Lukas Weber",
        "Founder",
        "Tidewater Coffee",
        5,
        "We finally have one place for every review our customers leave. The wall of love on our homepage "
        "is the first thing new visitors mention.",
    ),
    (
        "Priya Raman",
        "Product Designer",
        "Northwind Labs",
        4,
        "Clean, fast and it respects our brand colours. I wish the carousel had a few more layout options, "
        "but it does the job beautifully.",
    ),
    (
        "Diego Hernández",
        "",
        "",
        5,
        "Absolutely love it! Recording a video testimonial from my phone was easier than sending a text message.",
    ),
    (
        "Hannah Kim",
        "Operations Lead",
        "Parcel & Pine",
        3,
        "It works well once it is set up. The first import of our old reviews took longer than I expected.",
    ),
    ("Tom Becker", "", "", 2, "The product is okay but delivery was late twice and nobody told us why. Not great."),
    (
        "Sofia Rossi",
        "Marketing Manager",
        "Verde Studio",
        5,
        "Our customers trust what other customers say. Since we added the rating badge, fewer people ask us "
        "whether we are legit.",
    ),
    (
        "Kwame Mensah",
        "CTO",
        "Ledgerly",
        4,
        "Self-hosted, no tracking cookies and the widget does not slow our site down. Exactly what our "
        "security team asked for.",
    ),
    (
        "Emily Carter",
        "",
        "",
        1,
        "I waited three weeks for a refund and had to email four times. Very disappointing experience.",
    ),
    (
        "Yuki Tanaka",
        "Community Manager",
        "Pixel Harbor",
        5,
        "The moderation queue saves me an hour every day. Spam gets caught before I ever see it.",
    ),
    (
        "Omar Haddad",
        "Owner",
        "Haddad Bakery",
        4,
        "Simple for my customers to use, even the ones who are not good with computers. Good value.",
    ),
    (
        "Grace Liu",
        "",
        "",
        5,
        "Fantastic service from start to finish. The team went out of their way to help us launch on time!",
    ),
]


class Command(BaseCommand):
    help = "Create (or keep) the demo brand 'demo' with form 'feedback', testimonials, a widget and an admin."

    def add_arguments(self, parser):
        parser.add_argument("--no-media", action="store_true", help="Skip the demo photo and video.")

    def handle(self, *args, no_media: bool = False, **options):
        with transaction.atomic():
            brand, form, widget = self._brand_form_widget()
            password = self._admin(brand)
        created = 0
        for index, (name, title, company, rating, text) in enumerate(DEMO_TESTIMONIALS):
            key = f"demo-seed-{index}"
            if Testimonial.objects.filter(submission_key=key).exists():
                continue
            media = [] if no_media else self._media_for(index)
            testimonial_submit(
                form=form,
                data=SubmissionData(
                    author_name=name,
                    author_title=title,
                    author_company=company,
                    rating=rating,
                    text=text,
                    author_email=f"{name.split()[0].lower()}@example.com",
                    consent_given=True,
                    submission_key=key,
                    media=media,
                ),
            )
            created += 1
        self._invitations(form)
        base = settings.PUBLIC_URL
        self.stdout.write(self.style.SUCCESS(f"Demo ready ({created} new testimonials)."))
        self.stdout.write(f"  Collection page:  {base}/c/{brand.slug}/{form.slug}/")
        self.stdout.write(f"  Public wall:      {base}/w/{widget.public_id}/")
        self.stdout.write(f"  Admin:            {base}/admin/  (user: admin, password: {password})")
        self.stdout.write(f"  Invitations:      {base}/admin/testimonials/campaign/outbox/  (written here, not sent)")

    def _invitations(self, form: CollectionForm) -> None:
        """A campaign inviting two demo customers at once: the worker 'sends' them into var/outbox."""
        from testimonials.invitations.models import Campaign
        from testimonials.invitations.services import Customer, recipients_add

        campaign, _ = Campaign.objects.get_or_create(
            brand=form.brand, name="Recent orders", defaults={"form": form, "delay_days": 0}
        )
        customers = [
            Customer(email="ana@example.com", name="Ana Souza", order_id="1042", product="Espresso beans"),
            Customer(email="ben@example.com", name="Ben Okafor", order_id="1043", product="Pour-over kit"),
        ]
        with transaction.atomic():
            recipients_add(campaign=campaign, customers=customers, source="api")  # duplicates are skipped

    def _brand_form_widget(self):
        brand, _ = Brand.objects.get_or_create(
            slug="demo",
            defaults={
                "name": "Demo Coffee Co.",
                "accent_color": "#b45309",
                "website": "https://demo.example.com",
                # Vouch's own address: the landing page and the hosted wall may show the demo widget.
                "allowed_domains": [origin_normalise(settings.PUBLIC_URL)],
                "auto_approve": True,
            },
        )
        form, _ = CollectionForm.objects.get_or_create(
            brand=brand,
            slug="feedback",
            defaults={
                "title": "How was your experience with Demo Coffee Co.?",
                "intro": "It takes two minutes. Your words help other coffee lovers choose.",
                "video_max_seconds": 60,
            },
        )
        if not form.questions.exists():
            FormQuestion.objects.bulk_create(
                [
                    FormQuestion(form=form, position=0, label="What did you try before us?"),
                    FormQuestion(
                        form=form, position=1, label="How do you drink it?", kind="choice",
                        choices="Espresso\nFilter\nWith milk\nCold brew",
                    ),
                    FormQuestion(form=form, position=2, label="Would you tell a friend about us?", kind="yes_no"),
                ]
            )  # fmt: skip
        # Every review, newest first: an honest wall, low ratings included.
        widget, _ = Widget.objects.get_or_create(
            brand=brand,
            name="Homepage wall",
            defaults={"layout": Widget.Layout.WALL, "max_items": 12, "order": Widget.Order.NEWEST},
        )
        # A selection, labelled as one with its rule (FTC): what most brands put near "Buy".
        Widget.objects.get_or_create(
            brand=brand,
            name="Carousel: 4 and 5 stars",
            defaults={"layout": Widget.Layout.CAROUSEL, "min_rating": 4, "max_items": 8},
        )
        # A topic of the brand's own, as a brand adds it in the admin: the dashboard shows it beside the built-in ones.
        BrandTopic.objects.get_or_create(
            brand=brand,
            code="widgets",
            defaults={"name": "Widgets", "terms": ["widget", "wall of love", "carousel", "layout"]},
        )
        return brand, form, widget

    def _admin(self, brand: Brand) -> str:
        """A superuser 'admin'. Its random password is kept in var/ so every run can print it."""
        secret_file = Path(settings.VAR_DIR) / "demo-admin-password.txt"
        User = get_user_model()  # noqa: N806
        user = User.objects.filter(username="admin").first()
        if user is not None and secret_file.exists():
            return secret_file.read_text().strip()
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser("admin", "admin@example.com", password)
        else:
            user.set_password(password)
            user.save()
        Membership.objects.get_or_create(user=user, brand=brand, defaults={"role": Membership.Role.OWNER})
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(password)
        return password

    def _media_for(self, index: int) -> list[MediaUpload]:
        if index == 1:
            return [
                MediaUpload(
                    MediaAsset.Kind.PHOTO, File(io.BytesIO(_demo_photo()), name="photo.jpg"), "latte.jpg", "image/jpeg"
                )
            ]
        if index == 3:
            video = _demo_video()
            if video is not None:
                return [
                    MediaUpload(
                        MediaAsset.Kind.VIDEO, File(io.BytesIO(video), name="clip.mp4"), "my-review.mp4", "video/mp4"
                    )
                ]
        return []


def _demo_photo() -> bytes:
    """A warm gradient with a 'cup': enough to see the photo pipeline work."""
    image = Image.new("RGB", (1200, 900))
    draw = ImageDraw.Draw(image)
    for y in range(900):
        draw.line([(0, y), (1200, y)], fill=(180 - y // 12, 120 - y // 15, 60 + y // 30))
    draw.ellipse([420, 250, 780, 610], fill=(245, 235, 220), outline=(90, 50, 20), width=12)
    draw.ellipse([480, 310, 720, 550], fill=(150, 90, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _demo_video() -> bytes | None:
    """A 3-second clip made with the bundled ffmpeg (imageio-ffmpeg)."""
    from testimonials.media.video import generate_sample_video

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.mp4"
        generate_sample_video(path, seconds=3)
        return path.read_bytes()
