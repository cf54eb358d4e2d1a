"""Settings for bench/widget_serving.py: production settings plus one extra URL, the per-view
Django JSON endpoint other testimonial tools use, so both are measured on the same stack."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.widget_urls"
