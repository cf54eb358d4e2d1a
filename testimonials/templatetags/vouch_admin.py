"""Template tags of the workspace's home page: reads only (selectors), no decisions."""

from __future__ import annotations

from django import template
from django.urls import reverse

from testimonials.selectors import workspace_checklist

register = template.Library()


@register.simple_tag(takes_context=True)
def first_run_checklist(context) -> list[dict]:
    """Each of the user's brands with its steps, done or not, and where to do each."""
    request = context["request"]
    out = []
    for brand, steps in workspace_checklist(request.user):
        done = sum(step.done for step in steps)
        out.append(
            {
                "brand": brand,
                "done": done,
                "total": len(steps),
                "steps": [
                    {"name": step.name, "done": step.done, "url": reverse(step.url_name, args=step.url_args)}
                    for step in steps
                ],
            }
        )
    return out
