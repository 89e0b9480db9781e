"""Bright detections, magpsf < 17: the twin of src/filter/predefined/bright.ts."""

from ztf_fields import number_field

name = "bright"
version = "1.0.0"

BRIGHT_LIMIT_MAG = 17


def alert_filter(alert):
    magpsf = number_field(alert["candidate"], "magpsf")
    return magpsf is not None and magpsf < BRIGHT_LIMIT_MAG
