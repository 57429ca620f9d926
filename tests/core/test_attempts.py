"""Sign-in attempts per address: a sliding window, a wait to report, bounded memory."""

from __future__ import annotations

import pytest

from bot.core.attempts import AttemptLimiter


def test_attempts_over_the_limit_wait_for_the_window_to_slide():
    limiter = AttemptLimiter(3, 60)
    assert [limiter.attempt("a", t) for t in (0, 10, 20)] == [None, None, None]
    assert limiter.attempt("a", 30) == 30
    assert limiter.attempt("b", 30) is None  # other addresses are not held back
    assert limiter.attempt("a", 60) is None  # the first attempt left the window
    assert limiter.attempt("a", 61) == 9


def test_refused_attempts_do_not_extend_the_wait():
    limiter = AttemptLimiter(1, 10)
    limiter.attempt("a", 0)
    for t in range(1, 10):
        assert limiter.attempt("a", t) == 10 - t
    assert limiter.attempt("a", 10) is None


def test_memory_is_bounded_by_forgetting_the_oldest_key():
    limiter = AttemptLimiter(1, 60, max_keys=2)
    limiter.attempt("a", 0)
    limiter.attempt("b", 0)
    limiter.attempt("c", 0)
    assert limiter.attempt("a", 1) is None  # forgotten, so allowed again
    assert limiter.attempt("c", 1) == 59


def test_a_limit_must_be_positive():
    with pytest.raises(ValueError):
        AttemptLimiter(0, 60)
