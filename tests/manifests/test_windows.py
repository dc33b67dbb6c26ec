from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from maestro.manifests.windows import WindowProblem, parse


def _t(text: str, zone: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_a_recurring_window_opens_at_its_cron_time_in_its_zone_for_its_duration() -> None:
    friday = parse({"name": "weekend", "cron": "0 18 * * 5", "duration": "62h", "timeZone": "Europe/Paris"})
    assert friday.open_until(_t("2026-12-04T17:59:00", "Europe/Paris")) is None
    assert friday.open_until(_t("2026-12-04T18:00:30", "Europe/Paris")) == _t("2026-12-07T08:00:00", "Europe/Paris")
    assert friday.open_until(_t("2026-12-06T23:00:00", "Europe/Paris")) == _t("2026-12-07T08:00:00", "Europe/Paris")
    assert friday.open_until(_t("2026-12-07T08:00:00", "Europe/Paris")) is None
    assert friday.open_until(_t("2026-12-04T17:30:00", "UTC")) is not None  # 18:30 in Paris


def test_a_fixed_window_holds_from_start_to_end() -> None:
    holiday = parse({"name": "h", "start": "2026-12-24T00:00:00Z", "end": "2026-12-28T00:00:00Z"})
    assert holiday.open_until(_t("2026-12-23T23:59:59")) is None
    assert holiday.open_until(_t("2026-12-25T12:00:00")) == _t("2026-12-28T00:00:00")


@pytest.mark.parametrize(
    ("window", "key", "message"),
    [
        ({"name": "w", "cron": "0 18 * *", "duration": "1h"}, "cron", "not a five-field cron expression"),
        ({"name": "w", "cron": "0 61 * * *", "duration": "1h"}, "cron", "not a five-field cron expression"),
        ({"name": "w", "cron": "0 18 * * 5", "duration": "1h", "timeZone": "Mars/Olympus"}, "timeZone", "IANA"),
        ({"name": "w", "start": "2026-12-28T00:00:00Z", "end": "2026-12-24T00:00:00Z"}, "end", "swap start and end"),
    ],
)
def test_a_window_that_cannot_hold_says_which_field(window: dict[str, str], key: str, message: str) -> None:
    with pytest.raises(WindowProblem, match=message) as e:
        parse(window)
    assert e.value.key == key
