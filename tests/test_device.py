"""Where the network runs and in which precision: the autocast dtype for a GPU, asked of its compute capability."""

from __future__ import annotations

import pytest
import torch

from lakeview.core.models.device import AMP_ENV, autocast_dtype

CUDA = torch.device("cuda")


@pytest.fixture
def gpu_of_capability(monkeypatch):
    """Pretend the CUDA device has a given compute capability (no GPU is needed to ask)."""
    monkeypatch.delenv(AMP_ENV, raising=False)
    monkeypatch.setattr(torch.version, "hip", None)

    def pretend(major: int, minor: int = 0) -> None:
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (major, minor))

    return pretend


def test_no_autocast_on_the_cpu():
    assert autocast_dtype(torch.device("cpu")) is None


@pytest.mark.parametrize("capability, dtype", [((8, 0), torch.bfloat16), ((9, 0), torch.bfloat16),
                                               ((7, 5), torch.float16), ((6, 1), torch.float16)])
def test_bfloat16_only_where_the_gpu_computes_in_it_natively(gpu_of_capability, capability, dtype):
    """torch.cuda.is_bf16_supported() also says yes for a T4 or V100, which only emulate bfloat16, slowly."""
    gpu_of_capability(*capability)
    assert autocast_dtype(CUDA) == dtype


@pytest.mark.parametrize("value", ["off", "OFF", "0", "no", "false"])
def test_lakeview_amp_off_means_float32_throughout(gpu_of_capability, monkeypatch, value):
    gpu_of_capability(9, 0)
    monkeypatch.setenv(AMP_ENV, value)
    assert autocast_dtype(CUDA) is None


def test_rocm_has_bfloat16(gpu_of_capability, monkeypatch):
    monkeypatch.setattr(torch.version, "hip", "6.0")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: pytest.fail("asked on ROCm"))
    assert autocast_dtype(CUDA) == torch.bfloat16
