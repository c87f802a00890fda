"""Thresholds with a guarantee: recommendThreshold."""
