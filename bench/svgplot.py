"""A small SVG line-plot writer: panels stacked one above the other, sharing the x axis.

Enough for the soak's figures over time (lag, freshness, resident memory) without a plotting
library in the bench's dependencies. Pure: data in, SVG text out.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
LEFT, RIGHT, TOP, BOTTOM, GAP = 70, 150, 30, 40, 50
"""Margins around each panel's plot area, in pixels: room for ticks, the legend and titles."""

Points = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Panel:
    """One plot: a title, the unit of its y axis, and its series by name."""

    title: str
    y_label: str
    series: Mapping[str, Points]


def _span(values: list[float]) -> tuple[float, float]:
    """The axis range: from 0 (or below) to the largest value, never empty."""
    low, high = min([0.0, *values]), max([0.0, *values])
    return low, high if high > low else low + 1


def _tick(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"


def _text(
    x: float, y: float, text: str, anchor: str = "start", size: int = 11, upright: bool = False
) -> str:
    """A label at (x, y); `upright` turns it to read bottom to top, beside a y axis."""
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if upright else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{turn}>'
        f"{escape(text)}</text>"
    )


def _panel(
    panel: Panel, top: float, width: float, height: float, xs: tuple[float, float]
) -> list[str]:
    """A panel's frame, ticks, polylines and legend, its plot area starting at `top`."""
    x0, x1 = xs
    y0, y1 = _span([y for points in panel.series.values() for _, y in points])

    def sx(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * width

    def sy(y: float) -> float:
        return top + height - (y - y0) / (y1 - y0) * height

    out = [
        _text(LEFT, top - 8, panel.title, size=13),
        f'<rect x="{LEFT}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}"'
        ' fill="none" stroke="#999"/>',
        _text(LEFT - 50, top + height / 2, panel.y_label, anchor="middle", upright=True),
    ]
    for i in range(5):
        value = y0 + (y1 - y0) * i / 4
        out.append(_text(LEFT - 6, sy(value) + 4, _tick(value), anchor="end", size=10))
        value = x0 + (x1 - x0) * i / 4
        out.append(_text(sx(value), top + height + 14, _tick(value), anchor="middle", size=10))
    drawn = [(name, points) for name, points in panel.series.items() if points]
    for n, (name, points) in enumerate(drawn):
        colour = COLOURS[n % len(COLOURS)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(points))
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
        )
        out.append(
            f'<rect x="{LEFT + width + 12}" y="{top + 14 * n + 2:.1f}" width="10" height="3"'
            f' fill="{colour}"/>'
        )
        out.append(_text(LEFT + width + 26, top + 14 * n + 8, name))
    return out


def plot(panels: Sequence[Panel], x_label: str, width: int = 900, panel_height: int = 200) -> str:
    """An SVG document of `panels` stacked top to bottom, every panel on the same x range."""
    all_x = [x for p in panels for points in p.series.values() for x, _ in points]
    xs = (min(all_x, default=0.0), max(all_x, default=1.0))
    xs = xs if xs[1] > xs[0] else (xs[0], xs[0] + 1)
    area = width - LEFT - RIGHT
    body: list[str] = []
    for i, panel in enumerate(panels):
        body += _panel(panel, TOP + i * (panel_height + GAP), area, panel_height, xs)
    height = TOP + len(panels) * (panel_height + GAP) - GAP + BOTTOM
    body.append(_text(LEFT + area / 2, height - 8, x_label, anchor="middle"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif">\n'
        '<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n"
    )
