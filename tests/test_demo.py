"""The demo seeder: what `make run` shows a new user. Running it twice changes nothing."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from testimonials.models import Brand, CollectionForm, MediaAsset, Testimonial, Widget

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_once_however_often_it_runs(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out

    brand = Brand.objects.get(slug="demo")
    assert CollectionForm.objects.filter(brand=brand, slug="feedback").count() == 1
    assert Testimonial.objects.filter(brand=brand).count() == 12
    assert Widget.objects.filter(brand=brand).count() == 2
    assert Widget.objects.get(brand=brand, min_rating=4).layout == Widget.Layout.CAROUSEL
    assert brand.allowed_domains == [django_settings.PUBLIC_URL]  # the demo page shows its widgets
    assert CollectionForm.objects.get(brand=brand).questions.count() == 3
    assert list(brand.own_topics.values_list("code", flat=True)) == ["widgets"]
    assert set(Testimonial.objects.values_list("rating", flat=True)) >= {1, 2, 3, 4, 5}
    kinds = sorted(MediaAsset.objects.values_list("kind", flat=True))
    assert kinds == ["photo", "video"]
    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1
    # The same login works on every run: the printed password is the stored one.
    password = (tmp_path / "demo-admin-password.txt").read_text().strip()
    assert password in first and password in second
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert "/c/demo/feedback/" in second
