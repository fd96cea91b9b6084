"""The seed's fast.ai recipe, run by benchmarks/vs_fastai.py with the interpreter of its own fastai environment.

Imports fastai, never lakeview. Prints fastai's progress as it goes and, last, one line `RESULT {json}`.

    benchmarks/.fastai-env/bin/python benchmarks/fastai_recipe.py DATA --valid val --weights W.pth --threads 2
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data")
    parser.add_argument("--valid", required=True, help="the validation folder's name inside DATA (val or valid)")
    parser.add_argument("--weights", required=True, help="torchvision mobilenet_v2 state_dict (.pth)")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=4, help="epochs of each phase (the seed's recipe: 4)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    import fastai
    import torchvision
    from fastai.vision.all import (ImageDataLoaders, Resize, aug_transforms, default_split, error_rate,
                                   imagenet_stats, model_meta, set_seed, vision_learner)

    state = torch.load(args.weights, weights_only=True)

    def mobilenet_v2_shared(pretrained: bool = False, **_) -> torch.nn.Module:
        model = torchvision.models.mobilenet_v2()
        if pretrained:
            model.load_state_dict(state)
        return model

    # What fastai registers for its own torchvision backbones: keep `features` (cut the classifier), ImageNet
    # statistics for Normalize, body and head as the two parameter groups. Unregistered, fastai would look for a
    # pooling layer to cut at (mobilenet_v2 has none) and add no Normalize.
    model_meta[mobilenet_v2_shared] = {"cut": -1, "split": default_split, "stats": imagenet_stats}

    set_seed(args.seed)
    dls = ImageDataLoaders.from_folder(args.data, valid=args.valid, item_tfms=Resize(224),
                                       batch_tfms=aug_transforms(do_flip=False), bs=16)
    learn = vision_learner(dls, mobilenet_v2_shared, pretrained=True, metrics=error_rate)
    body = learn.model[0][0]
    differing = [name for name, value in body.state_dict().items() if not torch.equal(value, state[f"features.{name}"])]
    if differing or len(body.state_dict()) != sum(name.startswith("features.") for name in state):
        raise SystemExit(f"fastai's body does not hold the shared weights: {differing[:5]}")

    started = time.perf_counter()
    learn.fit_one_cycle(args.epochs)
    frozen = {"error": float(learn.recorder.values[-1][2]), "seconds": time.perf_counter() - started}
    learn.unfreeze()
    started = time.perf_counter()
    learn.fit_one_cycle(args.epochs)
    unfrozen = {"error": float(learn.recorder.values[-1][2]), "seconds": time.perf_counter() - started}
    final_error = float(learn.validate()[1])
    print("RESULT " + json.dumps({
        "fastai": fastai.__version__, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "workers": dls.train.num_workers, "train": len(dls.train_ds), "valid": len(dls.valid_ds),
        "classes": list(dls.vocab), "weights_checked": len(body.state_dict()),
        "frozen": frozen, "unfrozen": unfrozen, "error": final_error,
    }), flush=True)


if __name__ == "__main__":
    main()
