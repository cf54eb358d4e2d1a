"""Import jobs (an uploaded file of reviews from another platform) and their per-row report."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from testimonials.models.base import TimeStamped, new_public_id
from testimonials.models.brands import Brand
from testimonials.models.testimonials import Testimonial
from testimonials.storage import private_storage


class ReviewImport(TimeStamped):
    """One uploaded file, imported in the background in checkpointed chunks."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    preset = models.CharField(max_length=30)
    # Private, under a server-chosen name; deleted once the job ends (it holds customers' personal data).
    file = models.FileField(storage=private_storage, upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    fetch_media = models.BooleanField(default=False, help_text="Fetch photos and videos listed by URL.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    # The checkpoint: rows already handled (committed with their testimonials), so a restart resumes here.
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name or self.preset} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class ReviewImportRow(models.Model):
    """What happened to one row of the file. Holds no personal data of its own; goes with its testimonial."""

    class Status(models.TextChoices):
        CREATED = "created", "Imported"
        DUPLICATE = "duplicate", "Already imported"
        ERROR = "error", "Not imported"

    job = models.ForeignKey(ReviewImport, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(help_text="Row of the file (1 is the first review).")
    status = models.CharField(max_length=10, choices=Status.choices)
    message = models.CharField(max_length=300, blank=True)
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="import_row_once")]

    def __str__(self) -> str:
        return f"row {self.number}: {self.status}"
