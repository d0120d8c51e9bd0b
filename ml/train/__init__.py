"""Training: datasets, augmentation, models, the training pipeline, evaluation and the run report."""
