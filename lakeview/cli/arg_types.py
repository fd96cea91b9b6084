"""argparse `type=` functions for numeric options: a value out of range is a usage error (exit 2) naming the
option, not a traceback or a silent no-op later on."""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from lakeview.core.models.model_schema import MAX_SIZE as MAX_IMAGE_SIZE, MIN_SIZE as MIN_IMAGE_SIZE
from lakeview.core.training.plan import GOOD_STARTS, MAX_LR

MAX_WORKERS = 64
MAX_BATCH = 4096
"""Photos per batch: a batch is decoded and held in memory at once (4,096 at 224 px is 2.5 GB of tensors), so a
huge --bs would read a whole folder into memory, or overflow a counter."""


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def positive_int(text: str) -> int:
    """1, 2, 3, ... (batch sizes, counts)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def batch_size(text: str) -> int:
    """Photos per batch: 1 to MAX_BATCH."""
    value = positive_int(text)
    if value > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_BATCH:,}, not {value}")
    return value


def non_negative_int(text: str) -> int:
    """0, 1, 2, ... (epochs of one phase, worker processes)."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def duration(text: str) -> float:
    """Seconds, written 90, 90s, 1.5m, 2m30s or 1h: a time budget."""
    match = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text.lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"must be a duration such as 60s, 90, 2m or 1h30m, not {text!r}")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    value = hours * 3600 + minutes * 60 + seconds
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text!r}")
    return value


def image_size(text: str) -> int:
    """The side in pixels of the squares a network sees."""
    value = _integer(text)
    if not MIN_IMAGE_SIZE <= value <= MAX_IMAGE_SIZE:
        raise argparse.ArgumentTypeError(f"must be from {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} pixels, not {value}")
    return value


def learning_rate(text: str) -> float:
    value = _number(text)
    if not 0 < value < MAX_LR:
        raise argparse.ArgumentTypeError(f"must be above 0 and below {MAX_LR:g}, not {text} ({GOOD_STARTS})")
    return value


def grouping_distance(text: str) -> float:
    """A cosine distance at which similar-photo groups stop merging: above 0, at most 2."""
    value = _number(text)
    if not 0 < value <= 2:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 2 (a cosine distance; 0.4 is usual), not {text}")
    return value


def radius_km(text: str) -> float:
    """A distance on the Earth in km: above 0, at most 20,000 (half way round)."""
    value = _number(text)
    if not 0 < value <= 20_000:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 20000 km, not {text}")
    return value


def fraction_below_one(text: str) -> float:
    """A share in [0, 1): 0 is none, 1 (all of it) is not allowed (the validation share)."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, not {text}")
    return value


def probability(text: str) -> float:
    """A confidence in [0, 1]."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def seed(text: str) -> int:
    """Any whole number a random generator accepts (torch takes 64 bits)."""
    value = _integer(text)
    if not -(2 ** 63) <= value < 2 ** 64:
        raise argparse.ArgumentTypeError(f"must fit in 64 bits, not {value}")
    return value



def worker_count(text: str) -> int:
    """Data-loading processes: 0 (in-process) up to a number a machine can start."""
    value = non_negative_int(text)
    if value > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_WORKERS}, not {value}")
    return value


def given_path(text: str) -> Path:
    """A file or folder name: an empty one ('' from a script's unset variable) would mean the current folder."""
    if not text:
        raise argparse.ArgumentTypeError("an empty name is not a file or folder (an unset variable?)")
    return Path(text)


def existing_folder(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"folder not found: {text}")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"not a folder: {text}")
    return path


DEVICE_FORMS = "auto, cpu, cuda, cuda:N or mps"
MAX_GPU_INDEX = 127
"""torch keeps a device's number in a small integer: a huge cuda:N was a traceback, not a missing GPU."""


def device_name(text: str) -> str:
    """The spelling of --device; whether this machine has it is require_device's job (it needs torch)."""
    kind, _, index = text.strip().lower().partition(":")
    if kind in ("auto", "cpu", "mps") and not index:
        return kind
    if kind == "cuda" and (not index or index.isdigit()):
        if index and int(index) > MAX_GPU_INDEX:
            raise argparse.ArgumentTypeError(f"GPU numbers go from cuda:0 to cuda:{MAX_GPU_INDEX}, not '{text}'")
        return f"cuda:{int(index)}" if index else "cuda"
    raise argparse.ArgumentTypeError(f"must be {DEVICE_FORMS}, not '{text}'")


def require_device(name: str) -> None:
    """Refuse (UserError, exit 2) a --device this machine does not have, before any work starts."""
    import torch

    from lakeview.cli.console import UserError
    from lakeview.core.models.device import pick_device

    try:
        device = pick_device(name)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UserError(f"there is no CUDA GPU {device.index} (this machine has {torch.cuda.device_count()}: "
                        f"cuda:0 to cuda:{torch.cuda.device_count() - 1})")


def output_file(text: str) -> Path:
    """A file to write: not a folder, and in a folder that exists (or can be made) and may be written to, so that
    a long job does not end in 'permission denied'."""
    path = given_path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    if path.exists() and not path.is_file():  # a pipe, FIFO or device (/dev/stdout, >(gzip)): written straight into
        if not os.access(path, os.W_OK):
            raise argparse.ArgumentTypeError(f"cannot write {text}: it is not writable")
        return path
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text}: {folder} is not writable")
    return path


def plot_file(text: str) -> Path:
    path = output_file(text)
    if path.suffix.lower() not in (".png", ".csv"):
        raise argparse.ArgumentTypeError(f"must end in .png or .csv, not {path.suffix or 'nothing'}")
    return path


def label_pattern(text: str) -> str:
    """A regular expression whose first group is the label."""
    try:
        groups = re.compile(text).groups
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular expression: {exc}") from None
    if groups < 1:
        raise argparse.ArgumentTypeError(f"{text!r} needs a group for the label, e.g. '/([^/]+)_\\d+\\.jpg$'")
    return text


def output_folder(text: str) -> Path:
    """A folder to write into: not a file, and under a folder that may be written to."""
    path = given_path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    output_file(str(path / "x"))
    return path


def class_name(text: str) -> str:
    """A label: some visible text, kept as typed apart from surrounding spaces."""
    name = text.strip()
    if not name:
        raise argparse.ArgumentTypeError("a class name cannot be empty")
    return name
