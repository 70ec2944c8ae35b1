"""Bar charts laid out on the server, drawn as inline SVG by ``templates/_charts.html``.

No script and no outside host: the geometry is computed here in the SVG's own units; the SVG scales to its
container (a 360-pixel phone as well as paper), and every chart is printed beside a table of the same data.
"""
from __future__ import annotations

from dataclasses import dataclass

WIDTH = 320          # the viewBox width; the chart scales to the page
LABEL_HEIGHT = 16    # a bar's label sits on its own line above the bar, so long names never squeeze the bar
BAR_HEIGHT = 14
GAP = 8
VALUE_ROOM = 64      # the column right of the bars for the values


@dataclass(frozen=True)
class Bar:
    label: str            # shown above the row's first bar only
    value: float | None   # None: nothing to measure (no bar, a dash)
    text: str             # the value as shown
    series: int           # 0 or 1: the colour
    label_y: float        # the baseline of the label line
    bar_y: float          # the top of the bar
    width: float

    @property
    def text_y(self) -> float:
        return self.bar_y + BAR_HEIGHT - 3


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    bars: list[Bar]
    height: float
    legend: tuple[str, ...] = ()
    width: int = WIDTH


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, list[float | None], list[str]]], *,
              maximum: float | None = None, legend: tuple[str, ...] = ()) -> Chart:
    """Horizontal bars: each row a label and one value per series (at most two), scaled to ``maximum``."""
    values = [v for _label, series, _texts in rows for v in series if v is not None]
    top = maximum if maximum is not None else max(values, default=0) or 1
    room = WIDTH - VALUE_ROOM
    bars, y = [], 0.0
    for label, series, texts in rows:
        for index, (value, text) in enumerate(zip(series, texts, strict=True)):
            bars.append(Bar(label if index == 0 else "", value, text, index, y + LABEL_HEIGHT - 4,
                            y + LABEL_HEIGHT + index * (BAR_HEIGHT + 2), room * (value or 0) / top))
        y += LABEL_HEIGHT + len(series) * (BAR_HEIGHT + 2) + GAP
    return Chart(chart_id, title, bars, max(y, 1), legend)
