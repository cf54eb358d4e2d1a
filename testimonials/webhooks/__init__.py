"""Outgoing webhooks: a brand's endpoints hear about its testimonials, signed and retried, from the outbox.

  events.py      the webhook event vocabulary and which lifecycle entries become which events
  signing.py     Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature)
  payloads.py    what an event carries (a testimonial as the API shows it), and the Slack preset's message
  services.py    endpoints (create, change, rotate the secret, enable, delete) and deliveries (send, retry,
                 redeliver, give up and disable the endpoint)
  subscriber.py  the lifecycle subscriber: one delivery row per endpoint and event, sent after commit
  tasks.py       send one delivery; the periodic pass over what is due (retries, lost messages, dead workers)
Delivery is at least once: a delivery keeps its `webhook-id` through every retry and redelivery, so a
receiver drops the duplicates by it.
"""
