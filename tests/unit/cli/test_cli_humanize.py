"""Human sizes and durations must read exactly as Podman prints them."""

import pytest

from engine.cli.humanize import human_duration, human_size, human_size_compact, short_id, time_ago


@pytest.mark.parametrize("size,text", [
    (0, "0 B"), (999, "999 B"), (1000, "1 kB"), (5570, "5.57 kB"), (143_000, "143 kB"),
    (2_129_422, "2.13 MB"), (4_870_000, "4.87 MB"), (1_984_000, "1.98 MB"), (3_000_000_000, "3 GB"),
])
def test_human_size_like_podman_images(size, text):
    assert human_size(size) == text


@pytest.mark.parametrize("size,text", [(0, "0B"), (2_129_422, "2.129MB"), (142_800, "142.8kB"), (4_259_000, "4.259MB")])
def test_compact_size_like_system_df(size, text):
    assert human_size_compact(size) == text


@pytest.mark.parametrize("seconds,text", [
    (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"), (3600, "About an hour"),
    (5399, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"), (48 * 3600, "2 days"),
    (13 * 86400, "13 days"), (14 * 86400, "2 weeks"), (59 * 86400, "8 weeks"), (60 * 86400, "2 months"),
    (729 * 86400, "24 months"), (730 * 86400, "2 years"),
])
def test_duration_like_go_units(seconds, text):
    assert human_duration(seconds) == text


def test_time_ago_and_future_times():
    assert time_ago(1000.0, now=1000.0 + 7200) == "2 hours ago"
    assert time_ago(2000.0, now=1000.0) == "Less than a second ago"  # clock skew: never negative


def test_short_id():
    full = "sha256:" + "ab" * 32
    assert short_id(full) == "ab" * 6
    assert short_id("ab" * 32) == "ab" * 6
    assert short_id("ab" * 32, no_trunc=True) == full
