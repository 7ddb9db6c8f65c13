"""Bar charts for the consoles, laid out on the server: the template draws them as SVG, so no script is needed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The drawing's own units; the SVG scales to its container's width.
WIDTH = 640
HEIGHT = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 8, 12, 36
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


def bar_chart(series: Sequence[tuple[str, int]]) -> BarChart:
    """The layout of a bar chart of `series` (label, non-negative value), the bars in the given order."""
    top = axis_top(max((value for _, value in series), default=0))
    plot_height = HEIGHT - _TOP - _BOTTOM
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(series), 1)
    bars = []
    for index, (label, value) in enumerate(series):
        height = plot_height * max(value, 0) / top
        x = _LEFT + index * slot + slot * 0.15
        bars.append(
            Bar(
                label, value, round(x, 1), round(_TOP + plot_height - height, 1), round(slot * 0.7, 1), round(height, 1)
            )
        )
    # As many gridlines as divide the top evenly, so that every mark is a whole number.
    ticks = next(count for count in (4, 5, 2, 1) if top % count == 0)
    marks = [top * step // ticks for step in range(ticks + 1)]
    return BarChart(
        bars=tuple(bars),
        ticks=tuple(Tick(mark, round(_TOP + plot_height - plot_height * mark / top, 1)) for mark in marks),
    )
