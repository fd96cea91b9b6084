"""What a LakeView model file must hold, checked in full before anything is built from it.

A model file may come from anyone, so every field is checked against the limits below and any failure is a
ModelFileError whose message is one sentence naming the field. Nothing is allocated from a field's value
before it passes: a `size` of 20000 would otherwise make every photo a 20000-pixel tensor.

Importing this module does not import torch, so the command line can catch ModelFileError cheaply.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from lakeview.core.models.architectures import ARCHITECTURES, HEADS

FORMAT = "lakeview-model"
FORMAT_VERSION = 1

MAX_CLASSES = 10_000
MAX_CLASS_NAME = 500
MIN_SIZE, MAX_SIZE = 16, 1024
"""Crop side in pixels: ImageNet networks are trained at 224; 1024 already costs 20x the compute."""
MIN_HIDDEN, MAX_HIDDEN = 1, 4096
MAX_HISTORY = 100_000
MAX_TEXT = 100_000
TEXT_FIELDS = ("created", "version_id", "body_id", "notes", "lakeview_version")
MAX_DEPTH = 32
"""Containers inside containers: LakeView writes at most 4 levels; 10,000 would overflow Python's stack wherever
the metadata is copied, compared or shown (a RecursionError instead of a sentence)."""
MAX_MEAN = 1_000.0
MIN_STD, MAX_STD = 1e-4, 1_000.0
"""Pixels are 0 to 1: a std near 0 (or a huge mean) turns every photo into inf and every answer into NaN."""


class ModelFileError(ValueError):
    """A model file that cannot be used: missing, damaged, of another program, unsafe, or out of bounds."""


def validate_payload(payload: Any, path: Path | str) -> dict[str, Any]:
    """The checked metadata of a loaded model file, as a dict for ModelMeta.from_dict.

    `payload` is what the safe loader returned; its state_dict is checked for type here and for shape against
    the network it describes when the network is built.
    """
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a LakeView model file")
    version = payload.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path} is damaged: its format_version is {_shown(version)}, not a whole number")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path} was written by a newer LakeView; update LakeView to open it")
    check_depth(payload, path)
    for part, kind in (("meta", "a table of settings"), ("state_dict", "a table of weights")):
        if part not in payload:
            raise ModelFileError(f"{path} is damaged: it has no {part} ({kind})")
        if not isinstance(payload[part], dict):
            raise ModelFileError(f"{path} is damaged: its {part} is {_shown(payload[part])}, not {kind}")
    check_state_dict(payload["state_dict"], path)
    return _checked_meta(payload["meta"], path)


def _checked_meta(meta: dict[str, Any], path: Path | str) -> dict[str, Any]:
    def bad(field: str, value: Any, expected: str) -> ModelFileError:
        return ModelFileError(f"{path} is damaged or was altered: meta.{field} is {_shown(value)}; "
                              f"it must be {expected}")

    checked = dict(meta)
    arch = meta.get("arch")
    if not isinstance(arch, str) or arch not in ARCHITECTURES:
        raise bad("arch", arch, "one of " + ", ".join(sorted(ARCHITECTURES)))
    if "classes" not in meta:
        raise ModelFileError(f"{path} is damaged: meta.classes (the class names) is missing")
    classes = meta["classes"]
    if not isinstance(classes, (list, tuple)) or not 1 <= len(classes) <= MAX_CLASSES:
        raise bad("classes", classes, f"a list of 1 to {MAX_CLASSES:,} class names")
    for name in classes:
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_CLASS_NAME or not name.strip():
            raise ModelFileError(f"{path} is damaged or was altered: meta.classes holds {_shown(name)}; each "
                                 f"class name must be text of 1 to {MAX_CLASS_NAME} characters")
    if len(set(classes)) != len(classes):
        seen: set[str] = set()
        twice = next(name for name in classes if name in seen or seen.add(name))
        raise ModelFileError(f"{path} is damaged or was altered: meta.classes names {_shown(twice)} twice; "
                             "class names must be distinct")
    checked["classes"] = list(classes)
    _check_int(meta, "size", MIN_SIZE, MAX_SIZE, bad)
    _check_int(meta, "hidden", MIN_HIDDEN, MAX_HIDDEN, bad)
    if "head" in meta and meta["head"] not in HEADS:
        raise bad("head", meta["head"], "one of " + ", ".join(HEADS))
    dropout = meta.get("dropout")
    if dropout is not None and (not _is_number(dropout) or not 0 <= dropout < 1):
        raise bad("dropout", dropout, "empty or a number from 0 to below 1")
    for field, low, high in (("mean", -MAX_MEAN, MAX_MEAN), ("std", MIN_STD, MAX_STD)):
        if field in meta:
            values = meta[field]
            if (not isinstance(values, (list, tuple)) or len(values) != 3
                    or not all(_is_number(v) and math.isfinite(v) and low <= v <= high for v in values)):
                raise bad(field, values, f"3 numbers from {low:g} to {high:g}")
            checked[field] = tuple(float(v) for v in values)
    if "flip" in meta and not isinstance(meta["flip"], bool):
        raise bad("flip", meta["flip"], "true or false")
    history = meta.get("history", [])
    if not isinstance(history, list) or len(history) > MAX_HISTORY or not all(isinstance(h, dict) for h in history):
        raise bad("history", history, f"a list of at most {MAX_HISTORY:,} epoch records")
    if not isinstance(meta.get("metrics", {}), dict):
        raise bad("metrics", meta["metrics"], "a table of measurements")
    for field in ("metrics", "history"):
        odd = _not_plain(meta.get(field, {}))
        if odd is not None:
            raise bad(field, odd, "plain text, numbers and tables (it is stored in the catalog as JSON)")
    error_rate = meta.get("metrics", {}).get("error_rate")
    if error_rate is not None and not (_is_number(error_rate) and (math.isnan(error_rate) or 0 <= error_rate <= 1)):
        raise bad("metrics.error_rate", error_rate, "empty or a number from 0 to 1")
    for field in TEXT_FIELDS:
        if field in meta and (not isinstance(meta[field], str) or len(meta[field]) > MAX_TEXT):
            raise bad(field, meta[field], f"text of at most {MAX_TEXT:,} characters")
    parent = meta.get("parent")
    if parent is not None and (not isinstance(parent, str) or len(parent) > MAX_TEXT):
        raise bad("parent", parent, "empty or a version id")
    return checked


def _check_int(meta: dict[str, Any], field: str, low: int, high: int, bad) -> None:
    if field in meta:
        value = meta[field]
        if type(value) is not int or not low <= value <= high:
            raise bad(field, value, f"a whole number from {low} to {high:,}")


def check_state_dict(state: dict[Any, Any], path: Path | str) -> None:
    import torch

    for key, value in state.items():
        if not isinstance(key, str):
            raise ModelFileError(f"{path} is damaged: its state_dict has a key {_shown(key)} that is not a name")
        if (not isinstance(value, torch.Tensor) or value.layout != torch.strided or value.is_meta
                or value.is_complex() or value.is_quantized):
            raise ModelFileError(f"{path} is damaged: its state_dict entry {_shown(key)} is {_shown(value)}, "
                                 "not a tensor of numbers")


def _not_plain(value: Any) -> Any:
    """The first value inside `value` that JSON cannot hold as LakeView wrote it (a tensor, a set, a number key,
    ...), or None when all is plain. NaN stays allowed: a training run that diverged records a NaN loss."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return key
                stack.append(child)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif item is not None and not isinstance(item, (str, int, float)):
            return item
    return None


def check_finite(state: dict[str, Any], path: Path | str) -> None:
    """Weights that are NaN or infinite make every answer NaN: refused, with the first such entry named."""
    import torch

    for key, value in state.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ModelFileError(f"{path} is damaged: its weights {_shown(key)} hold NaN or infinite values, "
                                 "so it could not give a usable answer for any photo")


def check_depth(payload: Any, path: Path | str) -> None:
    """Walked without recursion, so that the check itself cannot overflow the stack."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, (list, tuple, set, frozenset)):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise ModelFileError(f"{path} is damaged or was altered: its contents nest more than {MAX_DEPTH} "
                                 "levels deep, which a model file never does")
        stack.extend((child, depth + 1) for child in children)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A short description of a value from someone else's file: never its whole text."""
    if value is None:
        return "missing"
    if isinstance(value, (bool, int, float)):
        return repr(value) if len(repr(value)) <= 40 else f"a {len(str(value))}-digit number"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a text of {len(value):,} characters"
    if isinstance(value, (list, tuple)):
        if len(value) <= 4 and all(isinstance(v, (bool, int, float, str)) for v in value):
            shown = repr(list(value))
            if len(shown) <= 60:
                return shown
        return f"a list of {len(value):,} item(s)"
    if isinstance(value, dict):
        return f"a table of {len(value):,} item(s)"
    return f"a {type(value).__name__}"
