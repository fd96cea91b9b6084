"""Rows as runs: sorted, inclusive (first, last) ranges, as selections and signals take them."""

from __future__ import annotations

from typing import Iterable


def ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as inclusive (first, last) runs: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    return ranges_union((row, row) for row in set(rows))


def ranges_union(runs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive runs, sorted and merged where they overlap or touch: [(5, 9), (0, 2), (3, 3)] -> [(0, 3), (5, 9)]."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(runs):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
