"""Likely extragalactic transients: the twin of src/filter/predefined/extragalactic.ts.

Positive difference; not a star (sgscore1 < 0.5 or distpsnr1 > 1"); no solar-system object within 12".
"""

from ztf_fields import is_positive_difference, number_field

name = "extragalactic"
version = "1.0.0"

STAR_SCORE_LIMIT = 0.5
STAR_DISTANCE_ARCSEC = 1
ROCK_DISTANCE_ARCSEC = 12


def alert_filter(alert):
    c = alert["candidate"]
    if not is_positive_difference(c):
        return False
    sgscore1 = number_field(c, "sgscore1")
    distpsnr1 = number_field(c, "distpsnr1")
    not_star = (sgscore1 is not None and sgscore1 < STAR_SCORE_LIMIT) or (distpsnr1 is not None and distpsnr1 > STAR_DISTANCE_ARCSEC)
    if not not_star:
        return False
    ssdistnr = number_field(c, "ssdistnr")
    return ssdistnr is None or ssdistnr < 0 or ssdistnr >= ROCK_DISTANCE_ARCSEC
