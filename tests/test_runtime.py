import gc

from bot.runtime import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a


def test_freezing_leaves_later_garbage_to_the_collector():
    try:
        frozen = freeze_startup_heap()
        assert frozen == gc.get_freeze_count() > 0
        cycle()  # garbage made after start-up
        assert gc.collect() >= 2
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
