"""A labelled set of photos split into train / valid / optional test, and what was skipped making it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lakeview.core.photos.file_names import distinct_readable_names

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Photo:
    path: Path
    label: str | None


@dataclass(frozen=True)
class SkippedFile:
    """An input that was left out of the dataset; `where` is a path or a CSV row."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class GroupsKept:
    """What a split by similarity did: near-duplicate groups (two photos or more) each kept on one side."""

    groups: int
    photos: int
    unhashed: int = 0
    """Photos that could not be hashed, each split on its own."""

    def __str__(self) -> str:
        text = (f"{self.groups} near-duplicate group{'s' if self.groups != 1 else ''} ({self.photos} photos) "
                "kept on one side of the split")
        return text + (f"; {self.unhashed} photo(s) could not be hashed" if self.unhashed else "")


class DatasetError(ValueError):
    """The input as a whole cannot make a dataset (no classes, multi-label CSV, unreadable CSV...)."""


@dataclass
class LabelledPhotos:
    classes: list[str]
    train: list[Photo]
    valid: list[Photo]
    test: list[Photo] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    root: Path | None = None
    groups_kept: GroupsKept | None = None
    """Set when the validation split kept near-duplicate groups together; None when it was not made that way."""

    def __post_init__(self) -> None:
        """Class names are text (a model file's meta and the catalog hold them): a name made from a folder name
        that is not UTF-8 becomes its readable form, numbered when another folder already has that name (see
        lakeview.core.photos.file_names.distinct_readable_names); so does one with spaces around it, trimmed as the
        catalog trims class names; the paths stay exact."""
        names = distinct_readable_names([*self.classes, *(p.label for split in SPLITS for p in self.split(split)
                                                          if p.label is not None)])
        if all(name == kept for name, kept in names.items()):
            return
        self.classes = [names[c] for c in self.classes]
        for name in SPLITS:
            setattr(self, name, [p if p.label is None else Photo(p.path, names[p.label]) for p in self.split(name)])

    def split(self, name: str) -> list[Photo]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        return getattr(self, name)

    def counts(self) -> dict[str, dict[str, int]]:
        """Photos per class for each split; unlabelled test photos count under '(unlabelled)'."""
        result: dict[str, dict[str, int]] = {}
        for name in SPLITS:
            counter = Counter(p.label if p.label is not None else "(unlabelled)" for p in self.split(name))
            result[name] = {c: counter.get(c, 0) for c in self.classes}
            result[name].update({k: v for k, v in counter.items() if k not in self.classes})
        return result

    def summary(self) -> str:
        counts = self.counts()
        names = list(self.classes) + sorted({k for c in counts.values() for k in c} - set(self.classes))
        width = max([len(n) for n in names] + [5])
        header = f"{'class':<{width}}  {'train':>6}  {'valid':>6}  {'test':>6}"
        lines = [header, "-" * len(header)]
        for name in names:
            row = [counts[s].get(name, 0) for s in SPLITS]
            lines.append(f"{name:<{width}}  {row[0]:>6}  {row[1]:>6}  {row[2]:>6}")
        totals = [len(self.split(s)) for s in SPLITS]
        lines.append(f"{'total':<{width}}  {totals[0]:>6}  {totals[1]:>6}  {totals[2]:>6}")
        if self.skipped:
            lines.append(f"{len(self.skipped)} file(s) skipped (see the list)")
        return "\n".join(lines)
