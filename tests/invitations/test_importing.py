"""CSV imports: columns mapped by header, a per-row report (bad emails, duplicates, suppressed addresses),
idempotent re-uploads, a crash mid-file resumed without duplicates, and files as spreadsheets write them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.invitations import csvfile, importing
from testimonials.invitations.importing import import_job_confirm, import_job_run, import_job_start, import_jobs_resume
from testimonials.invitations.models import ImportIssue, ImportJob, Recipient, Suppression
from testimonials.invitations.services import suppression_add

pytestmark = pytest.mark.django_db
Kind = ImportIssue.Kind

GOOD = (
    "Customer Name,E-mail,Order #,Order date,Product,Language\n"
    "Ada Lovelace,ada@example.com,1001,2024-05-01,Espresso beans,en\n"
    "Grace Hopper,grace@example.com,1002,2024-05-02,Pour-over kit,en-US\n"
)


def _upload(campaign, actor, text: str | bytes, name="customers.csv") -> ImportJob:
    data = text.encode() if isinstance(text, str) else text
    return import_job_start(campaign=campaign, upload=SimpleUploadedFile(name, data, "text/csv"), actor=actor)


def _import(campaign, actor, text, mapping=None) -> ImportJob:
    job = _upload(campaign, actor, text)
    import_job_confirm(job=job, mapping=mapping or job.mapping, actor=actor)
    return import_job_run(job_id=job.id)


def test_it_maps_columns_by_their_headers():
    headers = ["Customer Name", "E-mail", "Order #", "Order date", "Product", "Language", "Notes"]
    assert csvfile.guess_mapping(headers) == {
        "email": "E-mail", "name": "Customer Name", "order_id": "Order #", "order_date": "Order date",
        "product": "Product", "locale": "Language",
    }  # fmt: skip
    assert csvfile.guess_mapping(["first_name", "LAST NAME", "Email Address"]) == {
        "email": "Email Address",
        "first_name": "first_name",
        "last_name": "LAST NAME",
    }


def test_it_imports_a_file_and_reports_every_row_it_did_not_add(
    campaign_a, alice, fake_broker, django_capture_on_commit_callbacks
):
    suppression_add(brand_id=campaign_a.brand_id, address="gone@example.com", reason=Suppression.Reason.UNSUBSCRIBED)
    text = GOOD + (
        "No Email,,1003,,,\n"
        "Bad Email,not-an-email,1004,,,\n"
        'Two Emails,"a@example.com, b@example.com",1005,,,\n'
        "Ada Again,ADA@example.com,1006,,,\n"
        "Gone,gone@example.com,1007,,,\n"
        ",noname@example.com,1008,,,\n"
        "Bad Date,date@example.com,1009,31/05/2024,,\n"
        "Bad Locale,locale@example.com,1010,,,english please\n"
        ",,,,,\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(campaign_a, alice, text)
    assert job.status == ImportJob.Status.DONE and job.percent == 100
    assert (job.total_rows, job.processed_rows) == (11, 11)
    assert (job.added, job.duplicates, job.suppressed, job.invalid) == (2, 1, 1, 6)
    report = {issue.row_number: (issue.kind, issue.message) for issue in job.issues.all()}
    assert report[4] == (Kind.MISSING, "The email is missing.")
    assert report[5][0] == Kind.INVALID_EMAIL and "not-an-email" in report[5][1]
    assert report[6][0] == Kind.INVALID_EMAIL and "not one email address" in report[6][1]
    assert report[7] == (Kind.DUPLICATE, "The same address appears earlier (row 2).")
    assert report[8][0] == Kind.SUPPRESSED
    assert report[9] == (Kind.MISSING, "The customer's name is missing.")
    assert report[10][0] == Kind.INVALID_VALUE and "YYYY-MM-DD" in report[10][1]
    assert report[11][0] == Kind.INVALID_VALUE and "language code" in report[11][1]
    assert 12 not in report  # a blank row is not a problem
    ada = Recipient.objects.get(email_key="ada@example.com")
    assert (ada.name, ada.order_id, str(ada.order_date), ada.product, ada.locale) == (
        "Ada Lovelace",
        "1001",
        "2024-05-01",
        "Espresso beans",
        "en",
    )
    assert ada.import_job == job and ada.row_number == 2 and ada.source == "csv"
    assert "Added from CSV row 2" in ada.history.get().note
    assert not job.file  # the list is deleted once imported: only the report stays
    assert fake_broker.sent["import_job_run_task"] == [job.id]
    assert fake_broker.sent["invitations_tick_task"]  # due customers go out now, not at the next beat


def test_re_uploading_the_same_file_adds_nobody(campaign_a, alice, fake_broker):
    _import(campaign_a, alice, GOOD)
    again = _import(campaign_a, alice, GOOD)
    assert (again.added, again.duplicates) == (0, 2)
    assert Recipient.objects.count() == 2
    assert set(again.issues.values_list("message", flat=True)) == {"Already invited in this campaign."}


def test_no_upload_overrides_the_suppression_list(campaign_a, alice, fake_broker):
    for reason in (Suppression.Reason.UNSUBSCRIBED, Suppression.Reason.BOUNCED):
        suppression_add(brand_id=campaign_a.brand_id, address=f"{reason}@example.com", reason=reason)
    job = _import(campaign_a, alice, "email,name\nunsubscribed@example.com,A\nBOUNCED@example.com,B\n")
    assert (job.added, job.suppressed) == (0, 2)
    assert not Recipient.objects.exists()


def test_a_crash_mid_file_resumes_from_its_checkpoint_without_duplicates(
    campaign_a, alice, fake_broker, monkeypatch, settings
):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 3)
    rows = "".join(f"Customer {n},c{n}@example.com\n" for n in range(10))
    job = _upload(campaign_a, alice, "name,email\n" + rows)
    import_job_confirm(job=job, mapping=job.mapping, actor=alice)
    real_chunk, calls = importing._import_chunk, []

    def dies_on_the_third_chunk(*args):
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit("worker killed")  # nothing of this chunk commits
        return real_chunk(*args)

    monkeypatch.setattr(importing, "_import_chunk", dies_on_the_third_chunk)
    with pytest.raises(SystemExit):
        import_job_run(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.added) == (ImportJob.Status.RUNNING, 6, 6)
    assert import_job_run(job_id=job.id) is None  # still "running" for another worker: not taken twice
    assert import_jobs_resume() == 0

    settings.VOUCH_STUCK_AFTER_SECONDS = -1  # its heartbeat stopped: resumable now
    assert import_jobs_resume() == 1 and fake_broker.sent["import_job_run_task"] == [job.id]
    job = import_job_run(job_id=job.id)
    assert (job.status, job.processed_rows, job.added, job.duplicates, job.attempts) == (
        ImportJob.Status.DONE,
        10,
        10,
        0,
        2,
    )
    assert Recipient.objects.count() == 10


def test_a_job_that_keeps_crashing_is_marked_failed(campaign_a, alice, settings):
    job = _upload(campaign_a, alice, GOOD)
    import_job_confirm(job=job, mapping=job.mapping, actor=alice)
    ImportJob.objects.filter(pk=job.pk).update(attempts=importing.IMPORT_MAX_ATTEMPTS)
    job = import_job_run(job_id=job.id)
    assert job.status == ImportJob.Status.FAILED and "attempts" in job.error
    assert not Recipient.objects.exists()


def test_it_reads_excel_csv_semicolons_and_a_bom(campaign_a, alice, fake_broker):
    cp1252 = "Name;Email\nJosé Müller;jose@example.com\n".encode("cp1252")
    job = _import(campaign_a, alice, cp1252)
    assert job.added == 1 and Recipient.objects.get().name == "José Müller"
    bom = "\ufeffEmail,Name\nzoe@example.com,Zoë\n".encode()
    job = _import(campaign_a, alice, bom)
    assert job.mapping["email"] == "Email" and job.added == 1


def test_it_joins_first_and_last_names(campaign_a, alice, fake_broker):
    _import(campaign_a, alice, "First name,Last name,Email\nAda,Lovelace,ada@example.com\n")
    assert Recipient.objects.get().name == "Ada Lovelace"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("\x00\x01binary", "binary"),
        ("email,email\na@example.com,b@example.com\n", "same name"),
    ],
)
def test_it_refuses_files_it_cannot_read_at_upload(campaign_a, alice, content, message):
    with pytest.raises(ApplicationError, match=message):
        _upload(campaign_a, alice, content)
    assert not ImportJob.objects.exists()


def test_it_refuses_a_mapping_without_emails_or_names(campaign_a, alice):
    job = _upload(campaign_a, alice, GOOD)
    with pytest.raises(ApplicationError, match="email"):
        import_job_confirm(job=job, mapping={"name": "Customer Name"}, actor=alice)
    with pytest.raises(ApplicationError, match="names"):
        import_job_confirm(job=job, mapping={"email": "E-mail"}, actor=alice)
    with pytest.raises(ApplicationError, match="Unknown column"):
        import_job_confirm(job=job, mapping={"email": "Nope", "name": "Customer Name"}, actor=alice)


def test_viewers_and_outsiders_cannot_upload(campaign_a, victor, charlie):
    for person in (victor, charlie):
        with pytest.raises(PermissionDenied):
            _upload(campaign_a, person, GOOD)


def test_a_large_file_is_refused_with_a_reason(campaign_a, alice, monkeypatch):
    monkeypatch.setattr(importing, "IMPORT_MAX_BYTES", 100)
    with pytest.raises(ApplicationError, match="Split it"):
        _upload(campaign_a, alice, GOOD * 5)


def test_it_imports_in_constant_queries_per_chunk(campaign_a, alice, fake_broker, django_assert_max_num_queries):
    rows = "".join(f"Customer {n},c{n}@example.com\n" for n in range(400))
    job = _upload(campaign_a, alice, "name,email\n" + rows)
    import_job_confirm(job=job, mapping=job.mapping, actor=alice)
    with django_assert_max_num_queries(30):  # one chunk of 400: the same few queries as for 4
        import_job_run(job_id=job.id)
    assert Recipient.objects.count() == 400
