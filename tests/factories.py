"""factory_boy factories. Each test builds the rows it asserts on."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from testimonials.models import Brand, CollectionForm, Membership, Tag, Testimonial, Widget
from testimonials.moderation.rules import redact


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("pass-word-123")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    allowed_domains = factory.LazyFunction(lambda: ["https://shop.example.com"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Membership.Role.OWNER


class CollectionFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionForm

    brand = factory.SubFactory(BrandFactory)
    slug = factory.Sequence(lambda n: f"form-{n}")
    title = "Tell us how it went"


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


_UNPROCESSED = {Testimonial.State.RECEIVED, Testimonial.State.PROCESSING, Testimonial.State.FAILED}


class TestimonialFactory(factory.django.DjangoModelFactory):
    __test__ = False  # pytest: a factory, not a test class

    class Meta:
        model = Testimonial

    brand = factory.SubFactory(BrandFactory)
    form = factory.SubFactory(CollectionFormFactory, brand=factory.SelfAttribute("..brand"))
    author_name = factory.Faker("name")
    author_email = factory.LazyAttribute(lambda t: f"{t.author_name.split()[0].lower()}@example.com")
    rating = 5
    text = "Great product, the team helped us launch in a week."
    consent_given = True
    consent_text = "I agree that my testimonial may be shown publicly."
    consented_at = factory.LazyFunction(timezone.now)
    state = Testimonial.State.APPROVED
    # As processing leaves a row: the public text redacted once (rendering never redacts).
    public_text = factory.LazyAttribute(lambda t: "" if t.state in _UNPROCESSED else redact(t.text))


class WidgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Widget

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Widget {n}")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "testimonials.Campaign"

    brand = factory.SubFactory(BrandFactory)
    form = factory.SubFactory(CollectionFormFactory, brand=factory.SelfAttribute("..brand"))
    name = factory.Sequence(lambda n: f"Campaign {n}")
    delay_days = 0  # due at once: tests move the clock themselves where the delay matters


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "testimonials.Recipient"

    campaign = factory.SubFactory(CampaignFactory)
    brand = factory.SelfAttribute("campaign.brand")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    email_key = factory.LazyAttribute(lambda r: r.email.lower())
    next_send_at = factory.LazyFunction(timezone.now)
