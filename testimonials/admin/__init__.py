"""The Django admin, scoped per brand. Importing the modules registers their ModelAdmins; each package
with an admin of its own (testimonials/<package>/admin.py) is listed here."""

from testimonials.admin import brands, collection_forms, integrations, testimonials, widgets  # noqa: F401
from testimonials.insights import admin as insights_admin  # noqa: F401
from testimonials.invitations import admin as invitations_admin  # noqa: F401
from testimonials.lifecycle import admin as lifecycle_admin  # noqa: F401
from testimonials.members import admin as members_admin  # noqa: F401
from testimonials.webhooks import admin as webhooks_admin  # noqa: F401

from testimonials.imports import admin as imports_admin  # noqa: F401  # isort: skip
from testimonials.analytics import admin as analytics_admin  # noqa: F401  # isort: skip
from testimonials.influence import admin_views as influence_admin  # noqa: F401  # isort: skip
