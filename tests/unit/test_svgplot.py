"""The soak's SVG line plots: one polyline per series, scaled into its panel, text escaped."""

import xml.etree.ElementTree as ET

from bench.svgplot import Panel, plot

NS = {"s": "http://www.w3.org/2000/svg"}


def _points(polyline: ET.Element) -> list[tuple[float, float]]:
    pairs = (p.split(",") for p in polyline.attrib["points"].split())
    return [(float(x), float(y)) for x, y in pairs]


def test_each_series_is_a_polyline_scaled_into_its_panel() -> None:
    """Every point of a series is drawn, left to right in x order; the smallest y sits at the
    panel's bottom and the largest at its top (SVG's y grows downwards)."""
    svg = plot(
        [
            Panel("lag", "records", {"lag": [(0, 5), (10, 0), (20, 10)]}),
            Panel("RSS", "MiB", {"worker": [(0, 50), (20, 60)], "query": [(0, 80), (20, 90)]}),
        ],
        x_label="seconds",
    )
    root = ET.fromstring(svg)
    lines = root.findall(".//s:polyline", NS)
    assert [len(_points(line)) for line in lines] == [3, 2, 2]
    lag = _points(lines[0])
    assert lag[0][0] < lag[1][0] < lag[2][0]
    assert lag[1][1] > lag[0][1] > lag[2][1]
    # The second panel sits below the first.
    assert min(y for _, y in _points(lines[1])) > max(y for _, y in lag)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"lag", "RSS", "worker", "query", "seconds"} <= set(texts)


def test_a_flat_or_empty_series_still_draws() -> None:
    """A series whose values never change, or an empty one, is no division by zero."""
    svg = plot([Panel("flat", "ms", {"a": [(0, 3), (1, 3)], "b": []})], x_label="s")
    lines = ET.fromstring(svg).findall(".//s:polyline", NS)
    assert len(lines) == 1
    assert len({y for _, y in _points(lines[0])}) == 1


def test_text_is_escaped() -> None:
    """A title with markup characters stays text: the document still parses."""
    svg = plot([Panel("p50 & p99 <ms>", "ms", {"a<b": [(0, 1), (1, 2)]})], x_label="t")
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "p50 & p99 <ms>" in texts
    assert "a<b" in texts
