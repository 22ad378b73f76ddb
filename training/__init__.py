"""The training engine: the Trainer that owns fitting, checkpoints, data loaders, scoring and the feature cache."""
