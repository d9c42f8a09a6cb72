"""The risk model: LightGBM trained on history, calibrated, explained; and the rule score beside it."""
