"""Tests for working-day arithmetic on the mainland China calendar."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from registry.workdays import DateResult, WorkingCalendar, load_holiday_table


def test_national_day_crossing_ten_working_days() -> None:
    result = WorkingCalendar().add_working_days(date(2026, 9, 28), 10)
    assert result == DateResult(date(2026, 10, 15), ())
    assert not result.used_fallback


def test_make_up_saturday_is_a_working_day_and_counted() -> None:
    cal = WorkingCalendar()
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, 调休
    assert not cal.is_working_day(date(2026, 10, 5))  # Monday inside the holiday
    # Working days from Thu Oct 8: 8, 9, Sat 10, then Mon 12.
    assert cal.add_working_days(date(2026, 10, 8), 3).date == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 10, 8), 4).date == date(2026, 10, 12)


def test_weekend_start_counts_from_next_working_day() -> None:
    cal = WorkingCalendar()
    # Saturday 2026-03-07: day 1 is Monday 03-09.
    assert cal.add_working_days(date(2026, 3, 7), 1).date == date(2026, 3, 9)
    assert cal.add_working_days(date(2026, 3, 7), 5).date == date(2026, 3, 13)


def test_start_counted_when_it_is_a_working_day() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 3, 9), 1).date == date(2026, 3, 9)


def test_working_days_after_submission() -> None:
    # Friday 2026-09-25 is the Mid-Autumn holiday; 3 working days after it is Wednesday 09-30.
    result = WorkingCalendar().working_days_after(date(2026, 9, 25), 3)
    assert result == DateResult(date(2026, 9, 30), ())


def test_working_days_after_does_not_count_a_working_start() -> None:
    assert WorkingCalendar().working_days_after(date(2026, 3, 9), 1).date == date(2026, 3, 10)


def test_next_working_day_after() -> None:
    cal = WorkingCalendar()
    assert cal.next_working_day_after(date(2026, 9, 30)).date == date(2026, 10, 8)
    assert cal.next_working_day_after(date(2026, 3, 9)).date == date(2026, 3, 10)


def test_uncovered_year_falls_back_to_weekdays_and_says_so() -> None:
    cal = WorkingCalendar()
    # 2026-12-31 is a Thursday; the next day is in 2027, beyond the package's table.
    result = cal.next_working_day_after(date(2026, 12, 31))
    assert result.date == date(2027, 1, 1)
    assert result.fallback_years == (2027,)
    assert result.used_fallback
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday


def test_result_inside_covered_year_reports_no_fallback() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 12, 1), 5).fallback_years == ()


def test_fallback_spanning_several_years() -> None:
    result = WorkingCalendar().add_working_days(date(2026, 12, 31), 400)
    assert result.fallback_years == (2027, 2028)


def test_operator_table_overrides() -> None:
    cal = WorkingCalendar(extra_holidays={date(2027, 1, 1)}, extra_workdays={date(2027, 1, 2)})
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 1, 2))  # a Saturday made a working day
    result = cal.next_working_day_after(date(2026, 12, 31))
    assert result.date == date(2027, 1, 2)
    # Both days examined were decided by the operator's table, not by the weekday guess.
    assert result.fallback_years == ()


def test_operator_table_wins_over_package_table() -> None:
    # 2026-10-10 is an official make-up working day; 2026-10-12 an ordinary Monday.
    cal = WorkingCalendar(extra_holidays={date(2026, 10, 10)}, extra_workdays={date(2026, 10, 11)})
    assert not cal.is_working_day(date(2026, 10, 10))
    assert cal.is_working_day(date(2026, 10, 11))
    assert cal.add_working_days(date(2026, 10, 8), 3).date == date(2026, 10, 11)


def test_overlapping_operator_table_refused() -> None:
    with pytest.raises(ValueError, match="2027-01-01"):
        WorkingCalendar(extra_holidays={date(2027, 1, 1)}, extra_workdays={date(2027, 1, 1)})


@pytest.mark.parametrize("n", [0, -1])
def test_n_below_one_refused(n: int) -> None:
    cal = WorkingCalendar()
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days(date(2026, 3, 9), n)
    with pytest.raises(ValueError, match="at least 1"):
        cal.working_days_after(date(2026, 3, 9), n)


def test_datetime_refused() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar().is_working_day(datetime(2026, 3, 9, 12, 0))


def write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "holidays.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_load_holiday_table(tmp_path: Path) -> None:
    path = write(tmp_path, {"holidays": ["2027-01-01", "2027-02-16"], "workdays": ["2027-02-20"]})
    holidays, workdays = load_holiday_table(path)
    assert holidays == {date(2027, 1, 1), date(2027, 2, 16)}
    assert workdays == {date(2027, 2, 20)}
    cal = WorkingCalendar(holidays, workdays)
    assert cal.is_working_day(date(2027, 2, 20))


def test_load_holiday_table_keys_optional(tmp_path: Path) -> None:
    assert load_holiday_table(write(tmp_path, {"holidays": ["2027-01-01"]})) == ({date(2027, 1, 1)}, set())


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (["2027-01-01"], "expected an object"),
        ({"holidays": "2027-01-01"}, "must be a list"),
        ({"holidays": ["2027-01-01", "20270102"]}, "holidays[1]"),
        ({"holidays": [20270101]}, "YYYY-MM-DD"),
        ({"workdays": ["2027-02-30"]}, "not a real calendar date"),
        ({"holiday": ["2027-01-01"]}, "unknown key"),
        ({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "both"),
    ],
)
def test_load_holiday_table_bad_entries(tmp_path: Path, content: object, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        load_holiday_table(write(tmp_path, content))
    assert fragment in str(caught.value)
