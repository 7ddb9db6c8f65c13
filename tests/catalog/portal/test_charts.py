"""Charts laid out on the server: a round value axis, bars in proportion, and the SVG with its figures as a table."""

from __future__ import annotations

import pytest

from catalog.portal.charts import axis_top, bar_chart
from catalog.portal.render import Renderer, Request


@pytest.mark.parametrize(
    ("largest", "top"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (11, 20), (23, 25), (99, 100), (101, 200), (1001, 2000)],
)
def test_the_value_axis_ends_on_a_round_number(largest: int, top: int) -> None:
    assert axis_top(largest) == top


def test_bars_are_in_proportion_and_marks_are_whole() -> None:
    chart = bar_chart([("1月", 5), ("2月", 0), ("3月", 10)])
    first, empty, full = chart.bars
    assert (empty.height, full.height) == (0, pytest.approx(2 * first.height))
    assert full.y + full.height == empty.y == chart.baseline
    assert [tick.value for tick in chart.ticks] == [0, 2, 4, 6, 8, 10]
    assert chart.total == 15
    assert first.x < empty.x < full.x and full.x + full.width <= chart.width


def test_no_data_draws_an_empty_axis() -> None:
    chart = bar_chart([])
    assert chart.bars == () and [tick.value for tick in chart.ticks] == [0, 1]


def test_the_chart_is_an_svg_image_with_its_figures_in_a_table() -> None:
    environment = Renderer().environment("en")
    template = environment.from_string(
        '{% import "chart.html" as charts %}{{ charts.bar_chart(chart, "Downloads <by> month", "downloads") }}'
    )
    html = template.render(chart=bar_chart([("Jan", 1200), ("Feb", 3)]), request=Request("en", False, "/"))
    assert 'role="img" aria-labelledby="downloads-title"' in html
    assert '<title id="downloads-title">Downloads &lt;by&gt; month</title>' in html
    assert html.count('<rect class="bar"') == 2
    assert '<th scope="row">Jan</th><td>1,200</td>' in html


def test_labels_too_wide_for_their_bars_are_slanted_and_fit_in_the_drawing() -> None:
    months = bar_chart([(f"2026-{month:02d}", month) for month in range(1, 13)])
    states = bar_chart([("草稿，尚未提交", 1), ("已受理，形式审核中", 2), ("通过", 3)])
    short = bar_chart([("一月", 1), ("二月", 2)])
    assert (months.slant, states.slant, short.slant) == (35, 0, 0)
    assert months.height > short.height == 240 and months.overhang >= 0
    crowded = bar_chart([(f"状态名称很长的第{n}种", n) for n in range(8)])
    assert crowded.slant == 35 and crowded.overhang > 0
