"""People's writes on the core data, one module per area (each domain package keeps its own services):

- decisions.py  approve, reject, unpublish, feature, tag, edit: one row or many at constant cost
- brands.py     a brand's settings and its tags
- forms.py      collection forms
- api_keys.py   REST API keys: created once, stored hashed, revoked
"""
