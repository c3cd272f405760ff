"""The bounded LRU map every per-process cache uses."""

from __future__ import annotations

from gateway.kernel import Kept


def test_the_least_recently_used_goes_first() -> None:
    kept: Kept[str, int] = Kept(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "b" is now the least recently used
    kept.put("c", 3)
    assert "b" not in kept and kept.get("a") == 1 and kept.get("c") == 3
    assert len(kept) == 2


def test_made_builds_once_and_none_is_kept_too() -> None:
    kept: Kept[str, int | None] = Kept(4)
    calls: list[str] = []

    def make() -> int:
        calls.append("x")
        return 7

    assert kept.made("x", make) == 7 and kept.made("x", make) == 7
    assert calls == ["x"]
    kept.put("none", None)
    assert "none" in kept and kept.get("none") is None and kept.get("missing") is None
    kept.drop("x")
    kept.drop("never there")
    assert "x" not in kept and list(kept) == ["none"]
    kept.clear()
    assert len(kept) == 0
