"""Choosing the validation side group by group: a near-duplicate group never straddles the split, and each class
still holds out its share.

A group whose photos carry different labels goes with the class most of its photos have (ties: the first name in
sort order), and all its photos go to the side that class gives it, weighing what each of its classes needs:
its other photos count toward their own classes' shares, which fill up with the photos left."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Hashable, Sequence

Label = Hashable


def valid_target(total: int, valid_pct: float) -> int:
    """Photos of a class to hold out: `valid_pct` of them, rounded, and at least one of two or more."""
    n_valid = round(total * valid_pct)
    if valid_pct > 0 and n_valid == 0 and total >= 2:
        n_valid = 1
    return n_valid


def place_groups(labels: Sequence[Label], group_of: Sequence[int], class_orders: dict[Label, list[int]],
                 valid_pct: float, side_of_single: Callable[[int], bool] | None = None) -> list[bool]:
    """Whether each photo goes to the validation side.

    `class_orders` lists each class's photo indices in the order to consider them (a seeded shuffle, or a stable
    hash order), classes in the order to serve them. Walking its list, a class sends the next photo's whole group
    to the validation side when no class of the group goes past its target; then, walking again, when that brings
    the group's classes nearer their targets in all. A group never leaves a class without a training photo (a
    lone photo is always free to go, as in a split without groups). `side_of_single`, when given, fixes
    the side of every photo that is in no group beforehand; the groups then fill each class's share around them.
    With no groups and no `side_of_single`, this is the plain stratified split: each class's first
    `valid_target` photos in its order."""
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(group_of):
        members[g].append(i)
    owner = {g: min(Counter(labels[i] for i in photos).most_common(), key=lambda lc: (-lc[1], str(lc[0])))[0]
             for g, photos in members.items()}
    totals = {label: len(order) for label, order in class_orders.items()}
    targets = {label: valid_target(total, valid_pct) for label, total in totals.items()}
    side: dict[int, bool] = {}
    if side_of_single is not None:
        side.update({g: side_of_single(photos[0]) for g, photos in members.items() if len(photos) == 1})
    held = Counter(labels[i] for i, g in enumerate(group_of) if side.get(g) is True)
    for overshoot in (False, True):
        for label, order in class_orders.items():
            for i in order:
                g = group_of[i]
                if g in side or owner[g] != label:
                    continue
                counts = Counter(labels[j] for j in members[g] if labels[j] in targets)
                if overshoot:
                    fits = sum(abs(held[c] + n - targets[c]) - abs(held[c] - targets[c]) for c, n in counts.items()) < 0
                else:
                    fits = all(held[c] + n <= targets[c] for c, n in counts.items())
                if fits and (len(members[g]) == 1 or all(totals[c] - held[c] - n >= 1 for c, n in counts.items())):
                    side[g] = True
                    held.update(counts)
    return [side.get(g, False) for g in group_of]


def shared_groups(group_of: Sequence[int]) -> tuple[int, int]:
    """How many groups of two or more photos there are, and how many photos they hold."""
    sizes = Counter(group_of)
    shared = [n for n in sizes.values() if n > 1]
    return len(shared), sum(shared)
