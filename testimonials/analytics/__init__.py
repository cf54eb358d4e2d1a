"""Measuring what each testimonial makes visitors do, without cookies (issue 11, measurement).

The widget document batches events (frame.js) and the host page reports conversions (embed.js); the
beacon endpoint (views.py) validates a batch, derives a visitor key from a rotating salt and appends it
to a durable buffer (buffer.py) without touching the database; a worker (tasks.py -> services.py) drains
the buffer in batches into raw events and rollups. docs/analytics.md has the privacy model and sizing.
"""
