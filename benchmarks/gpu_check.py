"""One prepared run of LakeView's CUDA paths on a machine with a GPU: device choice, mixed precision, throughput.

Run on purpose, on a machine with an NVIDIA GPU (CI has none), from a checkout installed with `pip install -e .`
(or with `lakeview/resources` linked to the top-level `resources/`, which is what installing does):

    python benchmarks/cuda_check.py --data ../shared/data/hymenoptera \
        --weights ../shared/weights/mobilenet_v2-imagenet.pth --out /tmp/cuda-check

It prints, and writes to OUT/cuda_check.json:
  1. device choice: what `pick_device("auto")` picks, its description, the autocast dtype, whether a grad
     scaler is used (only for float16);
  2. mixed precision: the same random-weight network on the same batch in float32 and under autocast: top-1
     agreement and the largest probability difference;
  3. model-only throughput (photos/s) of resnet34 and mobilenet_v2 at 224 px, float32 NCHW against LakeView's
     path (channels_last + autocast), side by side, and the ratio;
  4. the real commands end to end on the GPU: `lakeview train` (4 frozen + 4 unfrozen epochs, mobilenet_v2 from
     the given ImageNet weights) with its wall time and validation error, `lakeview evaluate`, and
     `lakeview classify` of the validation folder to CSV with its photos/s; then the same training on the CPU
     for the ratio when --cpu-too is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout, installed or not


def device_choice() -> dict:
    import torch

    from lakeview.core.models.device import autocast_dtype, describe, pick_device

    device = pick_device("auto")
    amp = autocast_dtype(device)
    return {"torch": torch.__version__, "cuda_available": torch.cuda.is_available(),
            "picked": str(device), "described": describe(device), "autocast_dtype": str(amp),
            "grad_scaler": amp == torch.float16,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def mixed_precision_agreement(batch: int = 64) -> dict:
    import torch

    from lakeview.core.models.device import autocast_dtype, pick_device
    from lakeview.core.models.network import bare_network

    device = pick_device("auto")
    torch.manual_seed(0)
    network = bare_network("resnet34", 5).to(device, memory_format=torch.channels_last).eval()
    images = torch.randn(batch, 3, 224, 224, device=device).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        full = network(images).softmax(1).float()
        with torch.autocast(device.type, dtype=autocast_dtype(device)):
            mixed = network(images).softmax(1).float()
    return {"top1_agreement": float((full.argmax(1) == mixed.argmax(1)).float().mean()),
            "max_prob_difference": float((full - mixed).abs().max())}


def model_throughput(arch: str, batch: int = 128, steps: int = 20) -> dict:
    import torch

    from lakeview.core.models.device import autocast_dtype, pick_device
    from lakeview.core.models.network import bare_network

    device = pick_device("auto")
    network = bare_network(arch, 5).to(device).eval()
    images = torch.randn(batch, 3, 224, 224, device=device)

    def rate(run) -> float:
        with torch.inference_mode():
            for _ in range(3):
                run()
            torch.cuda.synchronize()
            started = time.perf_counter()
            for _ in range(steps):
                run()
            torch.cuda.synchronize()
        return batch * steps / (time.perf_counter() - started)

    plain = rate(lambda: network(images))
    network = network.to(memory_format=torch.channels_last)
    fast_images = images.contiguous(memory_format=torch.channels_last)

    def lakeview_path():
        with torch.autocast(device.type, dtype=autocast_dtype(device)):
            return network(fast_images)

    fast = rate(lakeview_path)
    return {"arch": arch, "batch": batch, "fp32_nchw_per_s": round(plain), "lakeview_per_s": round(fast),
            "ratio": round(fast / plain, 2)}


def run_command(*args: str, env: dict) -> tuple[int, float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "lakeview", *args], capture_output=True, text=True, env=env)
    return result.returncode, time.perf_counter() - started, result.stdout + result.stderr


def commands_end_to_end(data: Path, weights: Path, out: Path, device: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    model = out / f"hymenoptera-{device}.lvmodel"
    report: dict = {"device": device}
    code, seconds, text = run_command("train", str(data), "--arch", "mobilenet_v2", "--weights", str(weights),
                                      "--device", device, "--workers", "8", "--quiet", "--out", str(model), env=env)
    report["train"] = {"exit": code, "seconds": round(seconds, 1), "output_tail": text[-1500:]}
    evaluation = out / f"evaluate-{device}.json"
    code, seconds, text = run_command("evaluate", str(data), "--model", str(model), "--device", device,
                                      "--quiet", "--json", str(evaluation), env=env)
    report["evaluate"] = {"exit": code, "seconds": round(seconds, 1), "output_tail": text[-800:]}
    if evaluation.is_file():
        figures = json.loads(evaluation.read_text())
        report["evaluate"]["error_rate"] = figures.get("error_rate")
    valid = next((data / name for name in ("valid", "val") if (data / name).is_dir()), data)
    photos = sum(1 for p in valid.rglob("*") if p.is_file())
    code, seconds, text = run_command("classify", str(valid), "--recursive", "--model", str(model), "--device",
                                      device, "--csv", str(out / f"classify-{device}.csv"), "--quiet", env=env)
    report["classify"] = {"exit": code, "seconds": round(seconds, 1), "photos": photos,
                          "photos_per_s_with_startup": round(photos / seconds, 1), "output_tail": text[-600:]}
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a labelled folder (train/ and val/ class folders)")
    parser.add_argument("--weights", type=Path, required=True, help="mobilenet_v2 ImageNet state_dict (.pth)")
    parser.add_argument("--out", type=Path, default=Path("cuda-check"))
    parser.add_argument("--cpu-too", action="store_true", help="also train on the CPU, for the ratio")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    figures: dict = {"device_choice": device_choice()}
    print(json.dumps(figures["device_choice"], indent=1), flush=True)
    if not figures["device_choice"]["cuda_available"]:
        print("no CUDA GPU here: nothing more to check")
        return 1
    figures["mixed_precision"] = mixed_precision_agreement()
    print(json.dumps(figures["mixed_precision"]), flush=True)
    figures["throughput"] = [model_throughput("resnet34"), model_throughput("mobilenet_v2")]
    for row in figures["throughput"]:
        print(json.dumps(row), flush=True)
    figures["end_to_end"] = [commands_end_to_end(args.data, args.weights, args.out, "cuda")]
    if args.cpu_too:
        figures["end_to_end"].append(commands_end_to_end(args.data, args.weights, args.out, "cpu"))
    for run in figures["end_to_end"]:
        print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "output_tail"} if isinstance(v, dict) else v)
                          for k, v in run.items()}), flush=True)
    (args.out / "cuda_check.json").write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
