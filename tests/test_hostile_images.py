"""Photos that decode to far more pixels than their file size suggests: a per-file reason, bounded memory.

A 1-bit PNG of 15000 x 15000 pixels (225 MP) is a few tens of KB on disk; decoded in full it costs gigabytes.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import pytest
from photo_tools import make_photo
from memory_tools import PEAK_LIMIT_MB, run_measured, run_script
from PIL import Image

from lakeview.core.photos import images
from lakeview.core.photos.images import MAX_PIXELS, ImageLoadError, check_decodable, open_image
from lakeview.core.photos.pixel_budget import PixelBudget

HUGE = (15000, 15000)


def huge_png(path: Path, size: tuple[int, int] = HUGE) -> Path:
    image = Image.new("1", size, 0)
    image.paste(1, (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    image.save(path)
    return path


@pytest.fixture(scope="module")
def huge(tmp_path_factory) -> Path:
    path = huge_png(tmp_path_factory.mktemp("huge") / "scan.png")
    assert path.stat().st_size < 1 << 20
    return path


@pytest.fixture(scope="module")
def folder_with_huge(tmp_path_factory, huge) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for i in range(2):
        make_photo(folder / f"p{i}.jpg", (30, 30, 200), size=(96, 72), seed=i)
    (folder / "scan.png").write_bytes(huge.read_bytes())
    return folder


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    from lakeview.core.models.model_file import ModelMeta, save_model
    from lakeview.core.models.network import bare_network

    path = tmp_path_factory.mktemp("model") / "r18.lvmodel"
    return save_model(path, bare_network("resnet18", 2), ModelMeta(arch="resnet18", classes=["a", "b"], size=64))


# ------------------------------------------------------------------------------------ every decode path


def test_the_header_is_enough_to_refuse_it(huge, monkeypatch):
    monkeypatch.setattr(Image.Image, "load", _must_not_decode)
    with pytest.raises(ImageLoadError) as caught:
        open_image(huge, min_side=256)
    assert caught.value.reason == "image too large: 15000x15000 px (225 MP); the limit is 100 MP"
    with pytest.raises(ImageLoadError, match="too large"):
        check_decodable(huge)


def _must_not_decode(self, *args, **kwargs):
    raise AssertionError("pixels were decoded")


def test_the_thumbnail_path_gives_the_reason(huge):
    from lakeview.core.photos.thumbnails import make_thumbnail

    with pytest.raises(ImageLoadError, match="too large: 15000x15000"):
        make_thumbnail(huge, 256)


def test_the_grid_and_the_preview_give_the_reason(huge):
    from lakeview.gui.grid.qimages import make_qimage
    from lakeview.gui.preview_loader import decode

    with pytest.raises(ImageLoadError, match="too large: 15000x15000"):
        make_qimage(str(huge), 256)
    image, reason = decode(str(huge), 2048)
    assert image.isNull() and reason.startswith("image too large: 15000x15000")


def test_the_training_dataset_gives_the_reason(huge):
    from lakeview.core.models.photo_tensors import PhotoTensors
    from lakeview.core.datasets.dataset import Photo
    from lakeview.core.models.transforms import NO_AUGMENTATION, train_transform

    dataset = PhotoTensors([Photo(huge, "a")], ["a"], train_transform(64, NO_AUGMENTATION), 74)
    tensor, _, _, reason = dataset[0]
    assert tensor is None and reason.startswith("image too large")


def test_inference_gives_a_per_file_reason_and_goes_on(huge, tmp_path):
    import torch

    from lakeview.core.models.inference import Failure, Prediction, classify_files
    from lakeview.core.models.model_file import ModelMeta, SavedModel
    from lakeview.core.models.network import bare_network

    paths = [make_photo(tmp_path / "a.jpg"), huge, make_photo(tmp_path / "b.jpg")]
    model = SavedModel(bare_network("tiny", 2), ModelMeta(arch="tiny", classes=["x", "y"], size=32))
    results = list(classify_files(model, paths, batch_size=2, device=torch.device("cpu")))
    assert [type(r) for r in results] == [Prediction, Failure, Prediction]
    assert results[1].reason.startswith("image too large")


def test_a_jpeg_too_big_to_decode_whole_is_decoded_reduced(tmp_path):
    path = tmp_path / "panorama.jpg"
    Image.new("L", (11000, 9500), 90).save(path, quality=50)  # 104.5 MP: over the limit at full size
    with pytest.raises(ImageLoadError, match="too large: 11000x9500"):
        open_image(path)
    assert check_decodable(path) == (11000, 9500)
    assert open_image(path, min_side=256).size == (1375, 1188)  # the 1/8 scale


@pytest.mark.parametrize("pil_limit, size", [(1000, (40, 40)), (1000, (100, 100))])
def test_pils_own_bomb_warning_and_error_are_per_file_reasons(tmp_path, monkeypatch, pil_limit, size):
    """Should anything set PIL's own limit again, its warning (an error under -W error) or its error is a
    reason for that photo, never an exception that ends the job."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pil_limit)
    path = make_photo(tmp_path / "p.png", size=size)
    with pytest.raises(ImageLoadError, match="image too large"):
        open_image(path)
    with pytest.raises(ImageLoadError, match="image too large"):
        check_decodable(path)


# --------------------------------------------------------------------------------- memory in flight


class RecordingBudget(PixelBudget):
    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.peak = 0
        self.holds = 0
        self._lock = threading.Lock()

    def hold(self, pixels: int):
        budget = self
        inner = super().hold(pixels)

        class Held:
            def __enter__(self):
                inner.__enter__()
                with budget._lock:
                    budget.holds += 1
                    budget.peak = max(budget.peak, budget.held)

            def __exit__(self, *exc):
                return inner.__exit__(*exc)

        return Held()


def test_decode_threads_hold_at_most_the_budget_at_once(tmp_path, monkeypatch):
    import torch

    from lakeview.core.models.inference import Prediction, classify_files
    from lakeview.core.models.model_file import ModelMeta, SavedModel
    from lakeview.core.models.network import bare_network

    paths = [make_photo(tmp_path / f"p{i}.png", size=(400, 300), seed=i) for i in range(12)]
    budget = RecordingBudget(250_000)  # two photos of 120,000 pixels at a time, not eight
    monkeypatch.setattr(images, "DECODE_BUDGET", budget)
    model = SavedModel(bare_network("tiny", 2), ModelMeta(arch="tiny", classes=["x", "y"], size=32))
    results = list(classify_files(model, paths, batch_size=4, device=torch.device("cpu"), decode_threads=8))
    assert all(isinstance(r, Prediction) for r in results) and len(results) == 12
    assert budget.holds == 12
    assert 0 < budget.peak <= 250_000
    assert budget.held == 0


def test_a_budget_waits_for_room_and_serves_in_order():
    budget = PixelBudget(100)
    order: list[str] = []
    first = budget.hold(80)
    first.__enter__()
    started = threading.Event()

    def take(name: str, pixels: int) -> None:
        started.set()
        with budget.hold(pixels):
            order.append(name)

    big = threading.Thread(target=take, args=("big", 60))
    big.start()
    started.wait()
    while not budget._queue:  # the big one is queued before the small one arrives
        threading.Event().wait(0.001)
    small = threading.Thread(target=take, args=("small", 10))
    small.start()
    while len(budget._queue) < 2:
        threading.Event().wait(0.001)
    assert order == [] and budget.held == 80
    first.__exit__(None, None, None)
    big.join()
    small.join()
    assert order == ["big", "small"] and budget.held == 0


def test_a_budget_clamps_a_huge_request_and_lets_zero_pass():
    budget = PixelBudget(100)
    with budget.hold(10**12):
        assert budget.held == 100
        with budget.hold(0):
            assert budget.held == 100
    assert budget.held == 0
    with pytest.raises(ValueError):
        PixelBudget(0)


def test_the_documented_limit():
    assert MAX_PIXELS == 100_000_000


# ------------------------------------------------------------------------------ the real command


@pytest.mark.slow  # a child process that imports torch
def test_classify_skips_the_huge_png_with_its_reason_and_little_memory(folder_with_huge, model_file, tmp_path):
    out_csv = tmp_path / "out.csv"
    finished, peak_mb = run_measured("classify", folder_with_huge, "--model", model_file, "--csv", out_csv,
                                     "--quiet", "--device", "cpu")  # a GPU's context would count too
    finished.assert_clean()
    assert finished.code == 1, finished.err
    assert "scan.png: image too large: 15000x15000 px (225 MP); the limit is 100 MP" in finished.err
    rows = out_csv.read_text().splitlines()
    assert len(rows) == 4 and sum(",a," in r or ",b," in r for r in rows) == 2
    assert peak_mb < PEAK_LIMIT_MB


@pytest.mark.slow  # a child process that imports Qt
def test_thumbnails_of_huge_pngs_on_many_threads_stay_small(tmp_path, huge):
    """Eight decode threads at once on 81 MP PNGs (under the limit, so decoded) take turns: about one decode's
    memory (~160 MB) above the baseline instead of eight. One malloc arena, so that what glibc keeps per thread
    after a decode does not hide what is in flight (with eight arenas the peak reaches ~800 MB either way)."""
    big = huge_png(tmp_path / "big.png", (9000, 9000))
    script = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from lakeview.gui.grid.qimages import make_qimage\n"
        "from lakeview.core.photos.images import ImageLoadError\n"
        "def one(path):\n"
        "    try:\n"
        "        return make_qimage(path, 256).size().width()\n"
        "    except ImageLoadError as exc:\n"
        "        return exc.reason\n"
        "with ThreadPoolExecutor(8) as pool:\n"
        "    print(list(pool.map(one, sys.argv[1:])))\n"
    )
    finished, peak_mb = run_script(script, *[big] * 8, huge, MALLOC_ARENA_MAX="1")
    finished.assert_clean()
    assert finished.code == 0, finished.err
    assert finished.out.count("256") == 8 and "too large: 15000x15000" in finished.out
    assert "allocation limit" not in finished.err  # Qt is not asked to decode what it would refuse
    assert peak_mb < 600


# ------------------------------------------------------------------------- a strip one pixel wide


def strip_png(path: Path, size: tuple[int, int] = (1, 100_000)) -> Path:
    """475 bytes, 0.1 MP: far under the pixel limit, yet resizing its short side to 256 made it 6.5 gigapixels."""
    Image.new("RGB", size, (10, 200, 10)).save(path)
    return path


@pytest.mark.parametrize("size", [(1, 100_000), (100_000, 2)])
def test_a_strip_is_cut_to_ten_to_one_before_its_short_side_is_resized(tmp_path, size):
    from lakeview.core.photos.images import open_image
    from lakeview.core.models.transforms import Augmentation, ShortSideResize, train_transform, valid_transform

    image = open_image(strip_png(tmp_path / "strip.png", size), min_side=256)
    resized = ShortSideResize(256)(image)
    assert min(resized.size) == 256 and max(resized.size) <= 2_560
    assert tuple(valid_transform(224)(image).shape) == (3, 224, 224)
    assert tuple(train_transform(64, Augmentation())(image).shape) == (3, 64, 64)
    ordinary = Image.new("RGB", (400, 300))
    assert ShortSideResize(256)(ordinary).size == (341, 256)  # a real photo is resized as before


@pytest.mark.slow  # a child process that imports torch
def test_classify_of_a_one_pixel_strip_takes_little_memory(model_file, tmp_path):
    """It took 3.4 GB at size 64 (and would take about 20 GB at 224) for one 475-byte PNG."""
    folder = tmp_path / "strips"
    folder.mkdir()
    strip_png(folder / "strip.png")
    finished, peak_mb = run_measured("classify", folder, "--model", model_file, "--tta", "--quiet", "--device", "cpu")
    finished.assert_clean()
    assert finished.code == 0, finished.err
    assert finished.out.splitlines()[1].startswith("strip.png,")
    assert peak_mb < PEAK_LIMIT_MB


@pytest.mark.parametrize("fill", [math.nan, math.inf, -math.inf])
def test_a_float_tiff_with_nan_or_infinite_pixels_opens_without_a_warning(tmp_path, fill):
    """numpy's 'invalid value encountered in cast' reached the terminal as 'lakeview: warning: ...'."""
    import numpy as np

    from lakeview.core.photos.images import open_image

    values = np.full((32, 32), 0.5, np.float32)
    values[:16] = fill
    Image.fromarray(values).save(tmp_path / "f.tif")
    image = open_image(tmp_path / "f.tif")  # pytest turns any warning into an error
    assert image.mode == "RGB" and image.size == (32, 32)
    assert image.getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_named_like_a_photo_is_a_reason_in_the_grid_and_the_preview(tmp_path):
    """The thumbnail paths opened the file before checking it: a FIFO blocked a pool thread forever."""
    from lakeview.core.photos.thumbnails import make_thumbnail
    from lakeview.gui.preview_loader import decode

    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageLoadError, match="not a regular file"):
        make_thumbnail(fifo, 256)
    image, reason = decode(str(fifo), 256)  # the grid's and the preview's path, Qt's decoder first
    assert image.isNull() and reason == "not a regular file"
