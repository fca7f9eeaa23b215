"""Training: the data contract, the built-in trainer, preprocessing and gates."""
