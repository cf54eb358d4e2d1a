"""What customers talk about: each brand's own topic vocabulary, tags suggested from topics, and the
dashboard's praise and complaint topics.

The reading itself is the pure library `moderation/topics.py`; the processing pipeline stores each
testimonial's topics (`Testimonial.topics`). This package keeps the brand's own topics (`BrandTopic`),
reads the brand's testimonials again when they change (`tasks.brand_topics_reread_task`, started by
its lifecycle subscriber), turns topics into one-click tag suggestions, and counts topics for the
dashboard.
"""
