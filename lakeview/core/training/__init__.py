"""Teaching a model, one idea per module (each module's first line says what it holds).

plan: the recipe (frozen then unfrozen epochs, their rates); phases: running it on a learner; learner: freezing,
one-cycle fitting, prediction; features / features_in_memory / features_on_disk: the body-feature pass and its
results in memory and on disk; evaluation: how a model does on labelled photos; lr_finder; from_library and
library_dataset: training on a library's labels; retrain and retrain_schedule: new versions in the background.
Saving and loading a library's model versions is core/models/versions."""
