"""The landing page at /: where a new owner starts after `make run`. Links only, no brand data."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from testimonials.selectors import demo_links


@require_safe
def home(request):
    return render(request, "testimonials/home.html", {"demo": demo_links()})
