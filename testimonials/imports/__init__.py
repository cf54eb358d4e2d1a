"""Bringing reviews in from where they already live, and taking a whole brand out.

presets.py      the mapping presets (plain CSV and JSON, Google Business, Trustpilot, Judge.me, Senja,
                Testimonial.to): which column or key holds the author, rating, text, date, link and media
reader.py       reading an uploaded file row by row into `ImportedReview`s (pure: no database)
services.py     the import job: upload, run in the background in checkpointed chunks, report per row;
                idempotent on re-upload; every review badged "Imported from X", never verified, then
                moderated by the same pipeline as everything else
portability.py  a brand's full export (JSON plus a zip of its public renditions) and its restore into
                a fresh brand
subscriber.py   erasure: an erased testimonial's import report rows go with it
"""
