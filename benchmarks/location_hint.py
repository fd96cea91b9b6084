"""Do location hints help? A synthetic holiday on real photos: pixels alone, place alone, and the two combined.

Needs ../shared (hymenoptera photos and the ImageNet MobileNetV2 weights). Run on purpose:

    .venv/bin/python benchmarks/location_hint.py        # a few minutes on 2 CPU cores (the app rows double it)

The holiday: every hymenoptera photo (train/ and val/, 398) is copied with an EXIF GPS block into one of two
places 11.5 km apart, Lake Louise (the "ant hill") and Moraine Lake (the "bee garden"), scattered 400 m (one
standard deviation) around each. The place goes with the class as it would on a real trip, not perfectly:
with probability `home` a photo is taken at its class's place, else at the other one (ants wander into the
garden too). Two strengths are run: home = 0.8 and home = 0.65.

A third of the labels (stratified by class, three split seeds) are held out. Pixels: an ImageNet MobileNetV2
body, frozen, with a linear head fitted on the labelled two thirds (8 epochs, one cycle at 1e-3: LakeView's
frozen phase); and, as a model early in the labelling would be, a head fitted on only EARLY labelled photos
per class (the place still knows every labelled photo). Place: LakeView's hint from the labelled photos within 2 km, through a real catalog (the copies
added with `Catalog.add_folder`, labels and predictions stored). Combined: the documented product of experts
(lakeview/core/location/fusion.py), and the same with the place's weight fitted by log-likelihood, cross-fitted:
each half of the held-out photos is scored with the weight fitted on the other half. Errors are on the held-out third (133 photos: one photo is 0.75 points).

The app's path ("app:" rows): the app cannot see the held-out third's labels, so it fits the weight on the
library itself (lakeview/core/location/place_weight.py): a model trained on the train side of the library's
fingerprint split of the labelled two thirds (80%; the early head: EARLY photos per class of that side), its
predictions stored for the library's held-out side and for the held-out third, recorded as the active model with
its training run, and the weight the app's PlaceWeights gives (fitted on that side, or the default when too few).
"app: pixels" is that model alone, "app: weighed" what the inspector and `catalog hints` now show.
"""

from __future__ import annotations

import statistics
import struct
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from torchvision.transforms import v2

from lakeview.core.catalog import Catalog
from lakeview.core.datasets.importers import from_folder
from lakeview.core.location.fusion import best, combine, fit_place_weight
from lakeview.core.location.library_hints import library_hints
from lakeview.core.location.place_weight import PlaceWeights
from lakeview.core.models.network import build_network
from lakeview.core.models.transforms import IMAGENET_MEAN, IMAGENET_STD
from lakeview.core.photos.images import open_image
from lakeview.core.training.library_dataset import DEFAULT_HOLDOUT_PCT, in_holdout

from head_choice import fit_head  # benchmarks/ is the script's folder, so on sys.path

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data" / "hymenoptera"
WEIGHTS = SHARED / "weights" / "mobilenet_v2-imagenet.pth"
PLACES = {"ants": (51.4254, -116.1773), "bees": (51.3217, -116.1860)}  # Lake Louise, Moraine Lake
SCATTER_M = 400.0
HOMES = (0.8, 0.65)
SEEDS = (0, 1, 2)
EARLY = 4
METRES_PER_DEGREE = 111_195.0


def gps_app1(latitude: float, longitude: float) -> bytes:
    """A JPEG APP1 segment holding an EXIF block with the GPS IFD, as PIL writes it."""
    def dms(value: float):
        value = abs(value)
        degrees, minutes = int(value), int(abs(value) % 1 * 60)
        return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(round((value - degrees - minutes / 60)
                                                                                      * 3600 * 1000), 1000)
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N" if latitude >= 0 else "S", 2: dms(latitude),
                                 3: "E" if longitude >= 0 else "W", 4: dms(longitude)})
    block = exif.tobytes()
    return b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block


def holiday(photos, classes: list[str], home: float, folder: Path, seed: int) -> None:
    """Copy each photo into `folder` with a GPS position: a JPEG's bytes untouched (the APP1 segment goes right
    after its start marker), anything else (one GIF) saved as a JPEG with the position."""
    rng = np.random.default_rng(seed)
    for n, photo in enumerate(photos):
        own = photo.label if rng.random() < home else next(c for c in classes if c != photo.label)
        lat0, lon0 = PLACES[own]
        north, east = rng.normal(0, SCATTER_M, 2)
        latitude = lat0 + north / METRES_PER_DEGREE
        longitude = lon0 + east / (METRES_PER_DEGREE * np.cos(np.radians(lat0)))
        data = Path(photo.path).read_bytes()
        copy = folder / f"{n:03}_{Path(photo.path).stem}.jpg"
        if data[:2] == b"\xff\xd8":
            copy.write_bytes(data[:2] + gps_app1(latitude, longitude) + data[2:])
        else:
            with Image.open(photo.path) as im:
                im.convert("RGB").save(copy, "JPEG", quality=95, exif=gps_app1(latitude, longitude)[4:])


def body_features(network, paths: list[Path]) -> torch.Tensor:
    transform = v2.Compose([v2.Resize(224), v2.CenterCrop(224), v2.ToImage(),
                            v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(paths), 32):
            batch = torch.stack([transform(open_image(p, 224)) for p in paths[start:start + 32]])
            outputs.append(torch.mean(network.body(batch), dim=(2, 3)))
    return torch.cat(outputs)


def held_out_split(labels: list[str], seed: int) -> np.ndarray:
    """A boolean mask: a third of each class held out."""
    rng = np.random.default_rng(100 + seed)
    held = np.zeros(len(labels), dtype=bool)
    for name in sorted(set(labels)):
        members = np.flatnonzero(np.array(labels) == name)
        held[rng.choice(members, size=round(len(members) / 3), replace=False)] = True
    return held


def one_run(folder: Path, paths: list[Path], labels: list[str], classes: list[str], features: torch.Tensor,
            seed: int, early: bool) -> tuple[float, float, float, int, int, int, float, list[float]]:
    """Errors of pixels, place and combined on the held-out photos; photos without a hint; photos the place
    turned right, and wrong; the error with a fitted place weight, and the two weights fitted."""
    held = held_out_split(labels, seed)
    y = torch.tensor([classes.index(label) for label in labels])
    fit = ~held
    if early:
        rng = np.random.default_rng(200 + seed)
        fit = np.zeros(len(labels), dtype=bool)
        for c in range(len(classes)):
            fit[rng.choice(np.flatnonzero((y.numpy() == c) & ~held), size=EARLY, replace=False)] = True
    head = fit_head("linear", features.shape[1], features[fit], y[fit], seed, epochs=8 if not early else 40)
    with torch.no_grad():
        probabilities = F.softmax(head(features[held]), dim=1).numpy()
    with Catalog(folder / f"catalog-{seed}.sqlite") as catalog:
        catalog.add_folder(folder)
        catalog.ensure_classes(classes)
        for name in classes:
            catalog.set_labels([p for p, label, h in zip(paths, labels, held) if label == name and not h], name,
                               source="imported")
        tops = [sorted(zip(classes, map(float, row)), key=lambda item: -item[1]) for row in probabilities]
        catalog.store_predictions(f"benchmark-{seed}", zip([p for p, h in zip(paths, held) if h], tops))
        hints = library_hints(catalog)
        ids = [catalog.photo_id(p) for p, h in zip(paths, held) if h]
    truth = [label for label, h in zip(labels, held) if h]
    wrong = {"pixels": 0, "place": 0, "combined": 0}
    without_hint = fixed = broken = 0
    for photo_id, label in zip(ids, truth):
        hint = hints.of(photo_id)
        without_hint += hint.hint is None
        pixels_right, combined_right = best(hint.pixels)[0] == label, best(hint.combined)[0] == label
        wrong["pixels"] += not pixels_right
        wrong["place"] += (hint.hint.top if hint.hint is not None else classes[0]) != label
        wrong["combined"] += not combined_right
        fixed += combined_right and not pixels_right
        broken += pixels_right and not combined_right
    n = len(truth)
    experts = [(hints.of(i).pixels, hints.of(i).place) for i in ids]
    halves = [list(range(0, n, 2)), list(range(1, n, 2))]
    fitted = [fit_place_weight([experts[j] for j in half], [truth[j] for j in half]) for half in halves]
    wrong_fitted = sum(best(combine(*experts[j], fitted[1 - h]))[0] != truth[j]
                       for h, half in enumerate(halves) for j in half)
    return (wrong["pixels"] / n, wrong["place"] / n, wrong["combined"] / n, without_hint, fixed, broken,
            wrong_fitted / n, fitted)


def app_run(folder: Path, paths: list[Path], labels: list[str], classes: list[str], features: torch.Tensor,
            seed: int, early: bool) -> tuple[float, float, object]:
    """Errors on the held-out third of the app's model alone and of what the app shows, and its place weight."""
    held = held_out_split(labels, seed)
    y = torch.tensor([classes.index(label) for label in labels])
    with Catalog(folder / f"catalog-app-{seed}-{early}.sqlite") as catalog:
        catalog.add_folder(folder)
        catalog.ensure_classes(classes)
        for name in classes:
            catalog.set_labels([p for p, label, h in zip(paths, labels, held) if label == name and not h], name,
                               source="imported")
        fingerprint = {p: fp for p, _, _, fp in catalog.labelled_photos()}
        library_held = np.array([not h and in_holdout(fingerprint[p], DEFAULT_HOLDOUT_PCT)
                                 for p, h in zip(paths, held)])
        fit = ~held & ~library_held
        if early:
            rng = np.random.default_rng(200 + seed)
            fit = np.zeros(len(labels), dtype=bool)
            for c in range(len(classes)):
                fit[rng.choice(np.flatnonzero((y.numpy() == c) & ~held & ~library_held), size=EARLY,
                               replace=False)] = True
        head = fit_head("linear", features.shape[1], features[fit], y[fit], seed, epochs=8 if not early else 40)
        scored = held | library_held
        with torch.no_grad():
            probabilities = F.softmax(head(features[scored]), dim=1).numpy()
        version = f"app-{seed}-{early}"
        catalog.add_model(version, folder / f"{version}.pt", "mobilenet_v2", classes, None, {}, "2026-01-01T00:00:00",
                          "quick", active=True)
        run = catalog.start_training_run("quick", {"holdout_pct": DEFAULT_HOLDOUT_PCT, "classes": classes})
        catalog.finish_training_run(run, "promoted", [], version)
        tops = [sorted(zip(classes, map(float, row)), key=lambda item: -item[1]) for row in probabilities]
        catalog.store_predictions(version, zip([p for p, s in zip(paths, scored) if s], tops))
        hints = library_hints(catalog)
        weight = PlaceWeights().weigh(catalog, hints)
        ids = [catalog.photo_id(p) for p, h in zip(paths, held) if h]
    truth = [label for label, h in zip(labels, held) if h]
    shown = [hints.of(i) for i in ids]
    pixels_wrong = sum(best(h.pixels)[0] != t for h, t in zip(shown, truth))
    shown_wrong = sum(best(h.combined)[0] != t for h, t in zip(shown, truth))
    return pixels_wrong / len(truth), shown_wrong / len(truth), weight


def main() -> int:
    if not (DATA.is_dir() and WEIGHTS.is_file()):
        print(f"needs {DATA} and {WEIGHTS}", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    torch.set_num_threads(2)
    data = from_folder(DATA)
    photos = sorted(data.train + data.valid, key=lambda p: str(p.path))
    classes = data.classes
    started = time.perf_counter()
    network = build_network("mobilenet_v2", 2, WEIGHTS).eval()
    features = body_features(network, [Path(p.path) for p in photos])
    print(f"{len(photos)} photos, body features in {time.perf_counter() - started:.0f} s; held-out error % "
          f"(a third of the labels, {len(SEEDS)} split seeds; place alone guesses {classes[0]} without a hint)")
    for home in HOMES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            holiday(photos, classes, home, folder, seed=7)
            paths = sorted(folder.glob("*.jpg"))
            labels = [photos[int(p.name[:3])].label for p in paths]
            for early in (False, True):
                runs = [one_run(folder, paths, labels, classes, features, seed, early) for seed in SEEDS]
                apps = [app_run(folder, paths, labels, classes, features, seed, early) for seed in SEEDS]
                model = (f"head fitted on {EARLY} labelled photos per class" if early
                         else "head fitted on every labelled photo")
                print(f"home = {home} (each class photographed at its own place with probability {home}); {model}")
                for name, column in (("pixels alone", 0), ("place alone", 1), ("combined", 2),
                                     ("fitted weight", 6), ("app: pixels", -1), ("app: weighed", -2)):
                    errors = [100 * (run[column] if column >= 0 else app[-1 - column]) for run, app in zip(runs, apps)]
                    print(f"  {name:<14} " + " ".join(f"{e:5.2f}" for e in errors)
                          + f"   mean {statistics.mean(errors):5.2f}")
                print(f"  the place turned pixels' errors right / right guesses wrong, per seed: "
                      f"{[(run[4], run[5]) for run in runs]}; held-out photos without a hint (none within 2 km): "
                      f"{[run[3] for run in runs]}; place weights fitted: {[run[7] for run in runs]}")
                print("  the app's place weight, per seed: " + "; ".join(app[2].text() for app in apps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
