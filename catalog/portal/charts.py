"""Bar charts for the consoles, laid out on the server: the template draws them as SVG, so no script is needed."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# The drawing's own units; the SVG scales to its container's width.
WIDTH = 640
HEIGHT = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 8, 12, 36
# Labels are drawn 12 units high: a wide (CJK) character takes about that much width, a narrow one about 7.
_FONT = 12
_NARROW = 7
# Labels that do not fit under their bar are slanted by this angle (degrees), reading up to the right.
SLANT = 35
# Nice steps for the value axis: the scale's top is the smallest of these (times a power of ten) above the maximum.
_STEPS = (1, 2, 2.5, 5, 10)


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, and its rectangle in the drawing's units."""

    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    """A gridline of the value axis: the value and its height in the drawing."""

    value: int
    y: float


@dataclass(frozen=True)
class BarChart:
    """A bar chart ready to draw: its bars, its value axis, and the drawing's size."""

    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    baseline: int = HEIGHT - _BOTTOM
    slant: int = 0
    overhang: int = 0

    @property
    def total(self) -> int:
        """The sum of the bars' values."""
        return sum(bar.value for bar in self.bars)


def axis_top(largest: int) -> int:
    """The top of the value axis: a round number at least `largest` (at least 1)."""
    if largest <= 1:
        return 1
    power = 1
    while power * 10 < largest:
        power *= 10
    return next(int(step * power) for step in _STEPS if step * power >= largest and float(step * power).is_integer())


def label_width(label: str) -> float:
    """About how wide a label is drawn, in the drawing's units."""
    return sum(_FONT if unicodedata.east_asian_width(c) in "WF" else _NARROW for c in label)


def bar_chart(series: Sequence[tuple[str, int]]) -> BarChart:
    """The layout of a bar chart of `series` (label, non-negative value), the bars in the given order.

    When the widest label does not fit under its bar, every label is slanted (`slant` degrees) and the drawing grows
    down, and left by `overhang`, to hold them.
    """
    top = axis_top(max((value for _, value in series), default=0))
    plot_height = HEIGHT - _TOP - _BOTTOM
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(series), 1)
    widest = max((label_width(label) for label, _ in series), default=0)
    slanted = widest > slot * 0.95
    extra = math.ceil(widest * math.sin(math.radians(SLANT))) if slanted else 0
    overhang = max(0, math.ceil(widest * math.cos(math.radians(SLANT)) - _LEFT - slot / 2)) if slanted else 0
    bars = []
    for index, (label, value) in enumerate(series):
        height = plot_height * max(value, 0) / top
        x = _LEFT + index * slot + slot * 0.15
        y = _TOP + plot_height - height
        bars.append(Bar(label, value, round(x, 1), round(y, 1), round(slot * 0.7, 1), round(height, 1)))
    # As many gridlines as divide the top evenly, so that every mark is a whole number.
    ticks = next(count for count in (4, 5, 2, 1) if top % count == 0)
    marks = [top * step // ticks for step in range(ticks + 1)]
    return BarChart(
        bars=tuple(bars),
        ticks=tuple(Tick(mark, round(_TOP + plot_height - plot_height * mark / top, 1)) for mark in marks),
        height=HEIGHT + extra,
        slant=SLANT if slanted else 0,
        overhang=overhang,
    )
