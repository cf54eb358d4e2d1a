"""What happens when something changes: one recorded event, then every subscriber, durably.

A service that changes something others may care about (a testimonial received, decided,
featured, tagged, edited, erased; a brand's, form's or widget's settings) calls
`lifecycle.events.record()` (or `record_many()` for a batch) inside its transaction. That writes

  1. the audit row (`AuditEvent`, the trail an admin reads), and
  2. an outbox entry (`OutboxEntry`), both or neither.

After commit, `dispatch.lifecycle_hand_off()` sends the entry ids to a worker, which hands each
entry to every subscriber registered for its event type (`subscribers.subscribe()`). Each
subscriber's work and its receipt (`OutboxReceipt`) commit together, so it handles an entry once.
If the broker is down, a worker dies or a subscriber fails, the entry stays undispatched and the
sweeper (`dispatch.lifecycle_sweep()`, on beat) hands it off again, with backoff.

Who subscribes (each in its own package's `subscriber.py`, found by `subscribers.discover()`):
  widgets     republish what a brand's widgets show; remove a deleted widget's files
  privacy     delete an erased testimonial's files (originals and renditions)
  insights    read a brand's testimonials again for topics when its topic vocabulary changes
  invitations mark an invited customer's invitation submitted when their testimonial arrives (reminders stop)
  webhooks    one delivery per endpoint and webhook event, sent and retried (testimonials/webhooks/);
              an erasure scrubs what earlier deliveries of that testimonial hold

The event types are declared once, in `models.EventType`.
"""
