"""Small server-side SVG charts for the admin dashboard: no JavaScript library, no CDN.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (read by screen
readers; the desc lists the plotted values), axes with labels, and a legend. Colours come from
a palette that stays distinguishable for common colour-vision deficiencies, and every series
also has its own marker shape in line charts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]
MARKERS = ["circle", "square", "diamond", "triangle"]
_ids = itertools.count(1)


def _fmt(value: float | None) -> str:
    return "–" if value is None else number_format(round(value, 3), 3)  # number_format cuts, not rounds


def _scale_max(values: Sequence[float | None]) -> float:
    """A round top for the y axis (metrics live in 0..1)."""
    top = max([v for v in values if v is not None] or [0.0])
    for nice in (0.02, 0.04, 0.08, 0.2, 0.4, 0.6, 0.8, 1.0):  # quarters stay short numbers
        if top <= nice:
            return nice
    return float(math.ceil(top))


def _header(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rec-chart" id="{chart_id}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="sans-serif" font-size="11">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]


def _empty(chart_id: str, title: str, desc: str, width: int, message: str) -> SafeString:
    parts = _header(chart_id, title, desc, width, 40)
    parts.append(f'<text x="{width / 2}" y="24" text-anchor="middle" fill="#666">{escape(message)}</text></svg>')
    return mark_safe("".join(parts))


def _axes(parts: list[str], left: int, top: int, plot_w: int, plot_h: int, y_max: float) -> None:
    for i in range(5):
        value = y_max * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">'
                     f'{value:.3g}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#555"/>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
                 f'stroke="#555"/>')


def _marker(shape: str, x: float, y: float, colour: str, label: str) -> str:
    tip = f"<title>{escape(label)}</title>"
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}">{tip}</rect>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y:.1f} {x:.1f},{y + 4.5:.1f} {x - 4.5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}">{tip}</polygon>'
    if shape == "triangle":
        points = f"{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} {x - 4.5:.1f},{y + 3.5:.1f}"
        return f'<polygon points="{points}" fill="{colour}">{tip}</polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">{tip}</circle>'


def _legend(parts: list[str], names: Sequence[str], x: int, y: int, line: bool) -> None:
    """One entry per series, at least 110 px apart and wider for long names (~6.5 px a
    character at 11 px), so that names such as ``popularity_bias@10`` do not overlap."""
    lx = x
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        if i:
            lx += max(110, 24 + round(len(names[i - 1]) * 6.5) + 14)
        if line:
            parts.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="2"/>')
            parts.append(_marker(MARKERS[i % len(MARKERS)], lx + 9, y, colour, name))
        else:
            parts.append(f'<rect x="{lx}" y="{y - 6}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 24}" y="{y + 4}" fill="#222">{escape(name)}</text>')


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]],
               *, width: int = 520, height: int = 220, empty: str | None = None) -> SafeString:
    """One line per series over the x ``labels`` (e.g. versions, oldest first); ``None`` values
    leave a gap."""
    empty = empty or _("No finished versions yet.")
    chart_id = f"rec-chart-{next(_ids)}"
    values = [v for vs in series.values() for v in vs]
    desc_rows = [f"{name}: " + ", ".join(f"{label} {_fmt(v)}" for label, v in zip(labels, vs))
                 for name, vs in series.items()]
    desc = "; ".join(desc_rows) if labels else empty
    parts = _header(chart_id, title, desc, width, height)
    left, top, right, bottom = 46, 28, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    if not labels or all(v is None for v in values):
        return _empty(chart_id, title, desc, width, empty)
    y_max = _scale_max(values)
    _axes(parts, left, top, plot_w, plot_h, y_max)
    step = plot_w / max(len(labels) - 1, 1)
    xs = [left + (step * i if len(labels) > 1 else plot_w / 2) for i in range(len(labels))]
    every = max(1, len(labels) // 10)
    for i, (x, label) in enumerate(zip(xs, labels)):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 15}" text-anchor="middle" '
                         f'fill="#444">{escape(label)}</text>')
    for i, (name, vs) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        points = [(x, top + plot_h - plot_h * v / y_max, v, label)
                  for x, v, label in zip(xs, vs, labels) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, v, label in points:
            parts.append(_marker(MARKERS[i % len(MARKERS)], x, y, colour, f"{name} {label}: {_fmt(v)}"))
    _legend(parts, list(series), left, height - 10, line=True)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def bar_chart(title: str, groups: Sequence[str], series: dict[str, Sequence[float | None]],
              *, width: int = 640, height: int = 240, empty: str | None = None) -> SafeString:
    """Grouped bars: one group per entry of ``groups`` (e.g. engines), one bar per series
    (e.g. metrics)."""
    empty = empty or _("No active versions yet.")
    chart_id = f"rec-chart-{next(_ids)}"
    values = [v for vs in series.values() for v in vs]
    desc = "; ".join(f"{group}: " + ", ".join(f"{name} {_fmt(vs[g])}" for name, vs in series.items())
                     for g, group in enumerate(groups)) if groups else empty
    parts = _header(chart_id, title, desc, width, height)
    left, top, right, bottom = 46, 20, 12, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    if not groups or all(v is None for v in values):
        return _empty(chart_id, title, desc, width, empty)
    y_max = _scale_max(values)
    _axes(parts, left, top, plot_w, plot_h, y_max)
    group_w = plot_w / len(groups)
    bar_w = group_w * 0.8 / max(len(series), 1)
    for g, group in enumerate(groups):
        gx = left + g * group_w + group_w * 0.1
        parts.append(f'<text x="{gx + group_w * 0.4:.1f}" y="{top + plot_h + 15}" text-anchor="middle" '
                     f'fill="#222">{escape(group)}</text>')
        for i, (name, vs) in enumerate(series.items()):
            v = vs[g]
            if v is None:
                continue
            h = plot_h * v / y_max
            parts.append(f'<rect class="bar" x="{gx + i * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                         f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                         f'<title>{escape(group)} {escape(name)}: {_fmt(v)}</title></rect>')
    _legend(parts, list(series), left, height - 10, line=False)
    parts.append("</svg>")
    return mark_safe("".join(parts))
