"""Property: whatever customers type, the rendered structure of every layout stays the same.

Escaping stops markup; this checks it holds for any text in every field a visitor sees, across
all six layouts and the hosted wall page, without a database (pure rendering).
"""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testimonials.models import Widget
from testimonials.widgets.render import document_context
from tests.widgets.conftest import parse

HOSTILE = [
    "<img src=x onerror=top.pwned=1>",
    "</script><script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "'; background:url(javascript:alert(1)); '",
    "</style><style>*{display:none}</style>",
    "<!--",
    "]]>",
    "{{ w.id }}{% debug %}",
    "&lt;b&gt;",
    "\u202e\u0000\ufeff",
    "<a href='javascript:alert(1)'>x</a>",
]
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=60),
    st.lists(st.sampled_from([*HOSTILE, "a", " ", "\n", "<", ">", "&", '"', "'"]), min_size=1, max_size=8).map("".join),
)


def _data(*, name, title, company, text, highlight, brand, layout):
    item = {
        "id": "AbCdEfGh1234",
        "name": name,
        "title": title,
        "company": company,
        "url": "",
        "rating": 4,
        "text": text,
        "highlight": highlight,
        "date": "2026-01-02",
        "featured": False,
        "badges": ["verified"],
    }
    return {
        "widget": {
            "id": "WiDgEt123456",
            "layout": layout,
            "theme": "auto",
            "accent": "#4f46e5",
            "radius": 12,
            "curated": True,
            "brand": brand,
            "wall": "https://vouch.example.com/w/WiDgEt123456/",
        },
        "summary": {"average": 4.0, "count": 2, "customers": 2},
        "items": [item, {**item, "id": "ZyXwVuTs9876"}],
        "jsonld": None,
    }


def _shapes(**fields):
    shapes = []
    for layout in Widget.Layout.values:
        data = _data(layout=layout, **fields)
        shapes.append(parse(render_to_string("testimonials/widget/document.html", document_context(data))).shape)
    wall = _data(layout="wall", **fields)
    shapes.append(parse(render_to_string("testimonials/widget/wall.html", document_context(wall, hosted=True))).shape)
    return shapes


BENIGN = {"name": "Ann Lee", "title": "CEO", "company": "Acme", "text": "Great", "highlight": "Great", "brand": "B"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=texts, title=texts, company=texts, text=texts, highlight=texts, brand=texts)
def test_it_never_lets_hostile_text_change_the_rendered_structure(name, title, company, text, highlight, brand):
    assert _shapes(name=name, title=title, company=company, text=text, highlight=highlight, brand=brand) == _shapes(
        **BENIGN
    )


@pytest.mark.parametrize("payload", [p for p in HOSTILE if p.isprintable()])
def test_it_shows_hostile_text_as_text(payload):
    data = _data(layout="wall", **{**BENIGN, "text": payload})
    doc = parse(render_to_string("testimonials/widget/document.html", document_context(data)))
    assert payload in "".join(doc.text)
