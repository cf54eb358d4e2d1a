"""The hosted wall page of a widget: shareable, server-rendered, and the <noscript> fallback."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from testimonials import selectors
from testimonials.widget.render import document_context, is_curated, widget_data
from testimonials.widget.schema import jsonld_script_text


@require_safe
def widget_wall(request, public_id: str):
    widget = selectors.widget_get_public(public_id=public_id)
    data = widget_data(widget)
    context = document_context(data, hosted=True)
    context["w"]["curated"] = is_curated(widget)  # the page lists the selection, whatever the widget's layout
    context["jsonld"] = jsonld_script_text(data["jsonld"]) if data["jsonld"] else ""
    response = render(request, "testimonials/widget/wall.html", context)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
