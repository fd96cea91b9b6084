"""A classifier and its files: architectures, pretrained weights, the network, saving and safe loading, where it runs,
preprocessing, a library's model versions, and classifying photos, a test folder or a whole library with it."""
