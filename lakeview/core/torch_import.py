"""torch and torchvision, imported one thread at a time.

Both import parts of themselves circularly. When two threads import them at once, the second can be handed a
half-initialised module ("cannot import name 'InterpolationMode' from partially initialized module
'torchvision.transforms'"). The app's jobs run in threads, so each takes this lock before it starts; the first job (finding the device, at
start-up) thereby loads them all, and later work on the GUI thread that touches torch finds it loaded.
"""

from __future__ import annotations

import importlib
import threading

_lock = threading.Lock()


def import_torch() -> None:
    with _lock:
        importlib.import_module("torch")
        importlib.import_module("torchvision")
        importlib.import_module("torchvision.transforms.v2")
