import pytest

from bot.core.replays import RecentIds


def test_an_id_is_new_once():
    ids = RecentIds(3)
    assert ids.first_time(1) is True
    assert ids.first_time(1) is False
    assert ids.first_time(2) is True


def test_the_oldest_id_is_forgotten_beyond_capacity():
    ids = RecentIds(2)
    for id_ in (1, 2, 3):
        assert ids.first_time(id_)
    assert ids.first_time(1) is True, "forgotten, so it counts as new again"
    assert ids.first_time(3) is False


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        RecentIds(0)
