"""Every write Vouch makes, one module per area:

- submission.py  a customer's testimonial arriving (testimonial_submit)
- processing.py  the automatic pipeline: sentiment, moderation, decision, sweeper
- moderation.py  people's decisions: approve, reject, feature, tag, edit
- media.py       photos, avatars and videos: safe renditions
- widgets.py     publishing widgets as static files
"""
