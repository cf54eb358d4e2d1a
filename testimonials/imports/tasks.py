"""Import tasks: run a job, and resume jobs whose message or worker was lost. Retry policy: testimonials/queue.py."""

from __future__ import annotations

from celery import shared_task

from testimonials.imports import services


# Idempotent (checkpointed chunks, unique review keys), so it acks late and comes back if its worker
# dies; the job's attempt counter bounds how often. 10,000 reviews take seconds (docs/benchmarks.md);
# media fetching, when allowed, is what can take minutes.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1800, time_limit=1860)
def import_job_run_task(job_id: int) -> str:
    return services.import_job_run(job_id=job_id)


@shared_task(soft_time_limit=30, time_limit=45)
def imports_resume_stalled_task() -> int:
    return len(services.imports_resume_stalled())
