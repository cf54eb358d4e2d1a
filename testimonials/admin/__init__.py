"""The Django admin, scoped per brand. Importing the modules registers their ModelAdmins."""

from testimonials.admin import brands, testimonials  # noqa: F401
