"""Choosing where the network runs: CUDA, then Apple MPS, then the CPU, unless the user says otherwise."""

from __future__ import annotations

import os

import torch

AMP_ENV = "LAKEVIEW_AMP"


def pick_device(preference: str | None = None) -> torch.device:
    """`None` or 'auto' picks the best available; 'cpu', 'cuda', 'cuda:1' or 'mps' force one."""
    if preference not in (None, "", "auto"):
        device = torch.device(preference)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("CUDA was asked for but no CUDA GPU is available; use --device cpu")
        if device.type == "mps" and not _mps_available():
            raise ValueError("Apple MPS was asked for but is not available; use --device cpu")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA GPU {torch.cuda.get_device_name(index)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed precision on CUDA: bfloat16 where the GPU computes in it natively, else float16 (with a grad scaler);
    none with LAKEVIEW_AMP=off (float32 throughout, to compare or to rule mixed precision out)."""
    if device.type != "cuda" or os.environ.get(AMP_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return None
    return torch.bfloat16 if _native_bf16(device) else torch.float16


def _native_bf16(device: torch.device) -> bool:
    """Compute capability 8.0 (Ampere) or later, or ROCm. Not torch.cuda.is_bf16_supported(), which by default
    also says yes for older GPUs that only emulate bfloat16 (slowly), and asks about the current device only."""
    if torch.version.hip:
        return True
    return torch.cuda.get_device_capability(device)[0] >= 8


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())
