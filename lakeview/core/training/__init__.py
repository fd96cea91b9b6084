"""Teaching a model: the learner, the plan of its phases, the body-feature pass and its store, evaluation, the LR finder,
training from a library, and retraining new versions in the background."""
