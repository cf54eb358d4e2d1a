"""The Django admin, scoped per brand. Importing the modules registers their ModelAdmins."""

from testimonials.admin import brands, integrations, testimonials  # noqa: F401
