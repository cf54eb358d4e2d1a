"""The submission spool: what a customer sent while the database or the originals' disk was down.

"Received" must mean stored durably somewhere. When storing a validated submission fails because
of the infrastructure (outages.is_infrastructure_error: PostgreSQL down, the originals' disk full),
the collection view hands it here instead of answering 5xx:

- `submission_spool()` writes it to VOUCH_SPOOL_DIR as one folder per submission, named by its
  idempotency key (the page token's submission key): `submission.json` and each photo or video
  beside it. Everything is written under a temporary name, fsync'd, then renamed into place and the
  folder fsync'd, so an entry is either complete or absent after a crash. Only then is the
  customer sent to the thank-you page. A double submit finds its folder already there.
- `spool_replay()` stores each entry through the same service as a live submit
  (`testimonial_submit`), which is idempotent on the submission key, then deletes the folder. A
  crash between the two replays it again and the key returns the row already stored: exactly once.
  An entry the service refuses (the form was switched off meanwhile) moves to `held/` for an
  operator, never deleted. Replay runs on beat (`spool_replay_task`, every 15 s, on the sweeper's
  queue), at start-up (`manage.py spool_replay`), and stops at the first outage error.
- When even the spool cannot be written (its disk is full too), the view answers 503 with the
  form re-rendered, everything typed in it, and a "we couldn't save it yet" notice; collect.js
  keeps the page and retries.

The spool is a local folder: the process that replays it (the sweeper worker) must see the same
folder as the web processes (the same host, or one shared volume). Put it on another disk than
the originals, so one full disk does not take both.
"""
