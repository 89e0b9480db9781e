"""The ZTF purity cut (F. Masci, IPAC), the twin of src/filter/predefined/purity.ts.

rb >= 0.65, nbad == 0, fwhm <= 5, elong <= 1.2, |magdiff| <= 0.1; an alert lacking any of these fails.
"""

from ztf_fields import number_field

name = "purity"
version = "1.0.0"


def alert_filter(alert):
    c = alert["candidate"]
    rb = number_field(c, "rb")
    nbad = number_field(c, "nbad")
    fwhm = number_field(c, "fwhm")
    elong = number_field(c, "elong")
    magdiff = number_field(c, "magdiff")
    return (
        rb is not None and rb >= 0.65
        and nbad is not None and nbad == 0
        and fwhm is not None and fwhm <= 5
        and elong is not None and elong <= 1.2
        and magdiff is not None and abs(magdiff) <= 0.1
    )
