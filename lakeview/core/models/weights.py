"""Pretrained weights: torchvision's ImageNet files (downloaded once, checksum verified) or a local .pth."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import torch

from lakeview.core.models.architectures import ARCHITECTURES, Architecture
from lakeview.core.atomic import atomic_writer
from lakeview.core.jobs import ProgressFn, ShouldStopFn, Stopped, never_stop, no_progress
from lakeview.core.models.imagenet_files import known_imagenet_file, weights_folder
from lakeview.core.photos.files import file_kind, open_regular
from lakeview.core.models.model_schema import FORMAT, ModelFileError, check_depth, check_finite, check_state_dict
from lakeview.core.models.safe_load import load_or_refuse

TORCHVISION_BASE = "https://download.pytorch.org/models/"
MIRROR_ENV = "LAKEVIEW_WEIGHTS_MIRROR"
CHUNK = 1 << 16


class WeightsUnavailable(RuntimeError):
    """The weights could not be had: `reason` says why, `cli_advice` what to do instead on the command line
    (--weights, --arch; empty when there is nothing to add). The message is both; the app shows the reason with
    advice of its own."""

    def __init__(self, reason: str, cli_advice: str = "") -> None:
        super().__init__(f"{reason} {cli_advice}" if cli_advice else reason)
        self.reason = reason
        self.cli_advice = cli_advice


class WeightsOffline(WeightsUnavailable):
    """The download server could not be reached (no network, DNS, a timeout): worth trying again later."""


class WeightsFileError(WeightsUnavailable, ModelFileError):
    """A weights file that cannot be used: missing, not a file, damaged, oversized or unsafe (a fatal error
    on the command line, like a bad model file)."""


def imagenet_file_info(arch: Architecture) -> tuple[str, str, float | None]:
    """(url, file name, size in MB) of torchvision's ImageNet weights for `arch`.

    `$LAKEVIEW_WEIGHTS_MIRROR` replaces download.pytorch.org (a LAN mirror, or a test server).
    """
    if arch.imagenet_weights is None:
        raise WeightsUnavailable(f"{arch.name} has no ImageNet weights; use a weights file or none")
    from torchvision.models import get_weight

    weights = get_weight(arch.imagenet_weights)
    url = weights.url
    mirror = os.environ.get(MIRROR_ENV)
    if mirror and url.startswith(TORCHVISION_BASE):
        url = mirror.rstrip("/") + "/" + url[len(TORCHVISION_BASE):]
    return url, url.rsplit("/", 1)[-1], weights.meta.get("_file_size")


def cached_file(arch: Architecture) -> Path:
    """Where the ImageNet weights for `arch` are kept once downloaded or adopted (the file may not exist yet)."""
    known = known_imagenet_file(arch)
    return known[0] if known else weights_folder() / imagenet_file_info(arch)[1]


def imagenet_state_dict(
    arch: Architecture, progress: ProgressFn = no_progress, should_stop: ShouldStopFn = never_stop
) -> dict[str, torch.Tensor]:
    """The ImageNet state_dict for `arch`, from the cache or downloaded into it."""
    url, _, size_mb = imagenet_file_info(arch)
    target = cached_file(arch)
    if not target.exists():
        download(url, target, progress, should_stop, what=f"the ImageNet weights for {arch.name}", size_mb=size_mb)
    return load_state_dict_file(target)


def download(
    url: str,
    target: Path,
    progress: ProgressFn = no_progress,
    should_stop: ShouldStopFn = never_stop,
    what: str = "the file",
    size_mb: float | None = None,
    timeout: float = 30.0,
) -> Path:
    """Stream `url` to `target` atomically; verify the sha256 prefix torchvision puts in its file names."""
    expected = _hash_prefix(target.name)
    size_text = f" ({size_mb:.0f} MB)" if size_mb else ""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_writer(target) as out:
            total = int(response.headers.get("Content-Length") or 0)
            digest = hashlib.sha256()
            done = 0
            progress(0, total)
            while chunk := response.read(CHUNK):
                if should_stop():
                    raise Stopped()
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                progress(done, total)
            if expected and not digest.hexdigest().startswith(expected):
                raise WeightsUnavailable(
                    f"The download of {what} from {url} is damaged (sha256 {digest.hexdigest()[:12]}..., expected "
                    f"{expected}...). Nothing was kept; try again.", _alternatives(target.name)
                )
    except urllib.error.HTTPError as exc:
        raise WeightsUnavailable(
            f"Could not download {what}{size_text}: the server answered {exc.code} {exc.reason} for {url}.",
            _alternatives(target.name)
        ) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise WeightsOffline(
            f"Could not download {what}{size_text} from {url}: {reason}. Are you offline?", _alternatives(target.name)
        ) from None
    except OSError as exc:
        raise WeightsUnavailable(f"Could not save {what} to {target}: {exc.strerror or exc}") from None
    return target


def load_state_dict_file(path: Path | str) -> dict[str, torch.Tensor]:
    """A state_dict from a .pth file, loaded without executing code. Accepts {'state_dict': ...} wrappers."""
    path = Path(path)
    loaded = load_or_refuse(path, WeightsFileError, "weights file", "is not a readable PyTorch weights file")
    if isinstance(loaded, dict) and loaded.get("format") == FORMAT:
        raise WeightsFileError(f"{path} is a LakeView model file, not torchvision weights.",
                               "--weights takes imagenet, a torchvision .pth state_dict or none (a LakeView model "
                               "is what classify and evaluate take with --model).")
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise WeightsFileError(f"{path} does not hold a state_dict (a mapping of names to tensors)")
    try:
        check_depth(loaded, path)
        check_state_dict(loaded, path)
        check_finite(loaded, path)
    except ModelFileError as exc:
        raise WeightsFileError(str(exc)) from None
    return loaded


def adopt_file(arch: Architecture, source: Path | str) -> Path:
    """Check that `source` holds weights that fit `arch`, then copy it into the cache as `arch`'s ImageNet weights
    (a copy from another computer, where training looks for them). Raises WeightsUnavailable when the file
    cannot be used or copied; the cache is then left as it was, with no partial file."""
    source = Path(source)
    load_into(arch.build(), load_state_dict_file(source), source.name, arch.name)
    target = cached_file(arch)

    def refuse(mode: int) -> WeightsFileError:  # the name was replaced since the check
        return WeightsFileError(f"{source} is {file_kind(mode)}, not a weights file")

    try:
        with open_regular(source, refuse) as data, atomic_writer(target) as out:
            shutil.copyfileobj(data, out, CHUNK)
    except OSError as exc:
        raise WeightsUnavailable(f"Could not copy {source} to {target}: {exc.strerror or exc}") from None
    return target


def fitting_architectures(state_dict: dict[str, torch.Tensor]) -> list[str]:
    """The names of the architectures whose full torchvision model has exactly these tensor names and shapes
    (built on the meta device: no memory, no random init)."""
    fits = []
    for name, arch in ARCHITECTURES.items():
        with torch.device("meta"):
            own = arch.build().state_dict()
        if own.keys() == state_dict.keys() and all(own[k].shape == state_dict[k].shape for k in own):
            fits.append(name)
    return fits


def load_into(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: str, arch_name: str) -> None:
    """Load strictly, turning a mismatch into a message a person can act on."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    wrong_shape = [k for k in own if k in state_dict and state_dict[k].shape != own[k].shape]
    if missing or unexpected or wrong_shape:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong_shape:
            k = wrong_shape[0]
            parts.append(f"{len(wrong_shape)} of another shape (e.g. {k}: {tuple(state_dict[k].shape)} "
                         f"vs {tuple(own[k].shape)})")
        fits = fitting_architectures(state_dict)
        if fits:
            raise WeightsFileError(f"{source} does not fit torchvision's {arch_name}: {'; '.join(parts)}. "
                                   f"It holds {' or '.join(fits)} weights.", f"Use --arch {fits[0]}.")
        raise WeightsFileError(
            f"{source} does not fit torchvision's {arch_name}: {'; '.join(parts)}. "
            "Is it a state_dict of a different architecture?", "Pick the matching --arch."
        )
    model.load_state_dict(state_dict, strict=True)


def _hash_prefix(name: str) -> str | None:
    match = re.search(r"-([a-f0-9]{6,64})\.", name)
    return match.group(1) if match else None


def _alternatives(name: str) -> str:
    return (f"Instead, use a copy of {name} with --weights FILE, or --weights none to start from random weights "
            "(much less accurate).")
