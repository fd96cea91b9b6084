"""A classifier and its files: architectures, pretrained weights, the network, saving and safe loading, where it runs,
preprocessing, and classifying photos with it."""
