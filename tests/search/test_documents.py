"""Which days a product is certified on, as the index records them (the rule of Certificate.status_on)."""
from datetime import date, timedelta

from shop.search.documents import Window, certified_windows

TODAY = date(2025, 6, 1)
D = timedelta(days=1)


def cert(stars, decided, valid_until, withdrawn=None, superseded=None):
    return (stars, decided, valid_until, withdrawn, superseded)


def test_a_valid_certificate_gives_its_whole_validity():
    assert certified_windows([cert(4, date(2024, 1, 10), date(2027, 1, 10))], TODAY) == [
        Window(date(2024, 1, 10), date(2027, 1, 10), 4)]


def test_expired_and_low_star_certificates_give_nothing():
    assert certified_windows([cert(5, date(2020, 1, 1), TODAY - D)], TODAY) == []
    assert certified_windows([cert(2, date(2024, 1, 1), date(2027, 1, 1))], TODAY) == []
    assert certified_windows([], TODAY) == []


def test_a_certificate_ending_today_still_counts_today():
    assert certified_windows([cert(3, date(2022, 6, 1), TODAY)], TODAY) == [Window(date(2022, 6, 1), TODAY, 3)]


def test_withdrawal_ends_the_day_before():
    assert certified_windows([cert(4, date(2024, 1, 1), date(2027, 1, 1), withdrawn=TODAY)], TODAY) == []
    later = TODAY + 10 * D
    assert certified_windows([cert(4, date(2024, 1, 1), date(2027, 1, 1), withdrawn=later)], TODAY) == [
        Window(date(2024, 1, 1), later - D, 4)]


def test_a_superseding_certificate_takes_over_on_its_decision_date():
    old = cert(3, date(2023, 1, 1), date(2026, 1, 1), superseded=TODAY + 5 * D)
    new = cert(5, TODAY + 5 * D, date(2028, 6, 1))
    assert certified_windows([old, new], TODAY) == [Window(date(2023, 1, 1), TODAY + 4 * D, 3),
                                                    Window(TODAY + 5 * D, date(2028, 6, 1), 5)]


def test_overlapping_certificates_give_the_best_level_in_force_each_day():
    low = cert(3, date(2024, 1, 1), date(2027, 1, 1))
    high = cert(4, date(2024, 6, 1), date(2025, 12, 31))
    assert certified_windows([low, high], TODAY) == [Window(date(2024, 6, 1), date(2025, 12, 31), 4),
                                                     Window(date(2026, 1, 1), date(2027, 1, 1), 3)]
    # Adjacent periods at the same level are one window.
    first = cert(3, date(2024, 1, 1), date(2025, 12, 31))
    second = cert(3, date(2026, 1, 1), date(2028, 12, 31))
    assert certified_windows([first, second], TODAY) == [Window(date(2024, 1, 1), date(2028, 12, 31), 3)]


def test_windows_that_ended_before_today_are_dropped():
    past = cert(5, date(2020, 1, 1), date(2023, 1, 1))
    current = cert(3, date(2024, 1, 1), date(2027, 1, 1))
    assert certified_windows([past, current], TODAY) == [Window(date(2024, 1, 1), date(2027, 1, 1), 3)]
