"""Invitations: ask every customer by email, remind them politely, and badge what they send as verified.

A brand uploads a customer list (importing.py, a background job with a per-row report) or posts
customers through the API (api.py); services/ adds them, checked and de-duplicated, never a suppressed
address. Each customer is a Recipient of a Campaign; when its message is due, sending.py plans it (a
Delivery with its Message-ID, within the brand's daily cap), sends it through Django's mail backend
(the outbox folder in the embedded default, SMTP in production; composing.py builds it from
message.py's template rendering) and schedules at most two reminders; upkeep.py is what beat runs
each minute and what makes a dead worker's send never repeat.

The link in the message (tokens.py: signed, expiring, nothing stored) opens the campaign's collection
form through the collection view itself, with the name prefilled and the email locked
(collection/fields.py), and the testimonial is marked source=invite and verified; its unique key
makes the link single-use. subscriber.py hears the testimonial arrive and stops the
reminders. Unsubscribing (RFC 8058 one-click POST) and hard bounces (dsn.py) add the address's hash
to the brand's suppression list, which no upload can override.

Everyone on a list is invited the same way: nothing here can filter or route customers by rating
(FTC 16 CFR 465); tests/invitations/test_compliance.py holds it.
"""
