"""Training infrastructure shared by every trainer: checkpoints, distributed set-up, EMA."""
