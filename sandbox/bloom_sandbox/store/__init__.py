"""The synthetic store: its data model, its generator and its ground truth."""
