"""Detections of known solar-system objects, 0 <= ssdistnr <= 5": the twin of src/filter/predefined/solar-system.ts."""

from ztf_fields import number_field

name = "solar-system"
version = "1.0.0"

SOLAR_SYSTEM_MATCH_ARCSEC = 5


def alert_filter(alert):
    ssdistnr = number_field(alert["candidate"], "ssdistnr")
    return ssdistnr is not None and 0 <= ssdistnr <= SOLAR_SYSTEM_MATCH_ARCSEC
