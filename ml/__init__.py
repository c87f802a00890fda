"""Learning: LightGBM training, calibration and theme mining (arrives with the learning loop)."""
