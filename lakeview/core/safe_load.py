"""Loading PyTorch files with `weights_only=True`: tensors and plain data only, never code."""

from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch


class UnsafeFile(Exception):
    """The file asks to import or call something (a pickled object or function): refused unread."""


class UnreadableFile(Exception):
    """The file is damaged or is not a PyTorch file."""


def load_tensors_only(path: Path | str, mmap: bool = False) -> Any:
    """`mmap`: map the tensors instead of reading them (to look at a file's metadata without its weights)."""
    try:
        with warnings.catch_warnings():
            # Plain pickle files written with protocol 4+ trigger this notice; the safe unpickler still applies.
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            if mmap and zipfile.is_zipfile(path):  # torch maps only its zip format, not legacy or plain pickles
                return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = _unpickler_detail(str(exc))
        if "Unsupported global" in detail:
            raise UnsafeFile(detail) from None
        raise UnreadableFile(detail) from None
    except (RuntimeError, EOFError, ValueError, KeyError, IndexError, UnicodeDecodeError) as exc:
        raise UnreadableFile(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def _unpickler_detail(message: str) -> str:
    match = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\n|\. Please use|$)", message, re.S)
    return " ".join(match.group(1).split()) if match else message.splitlines()[0]
