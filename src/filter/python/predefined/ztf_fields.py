"""Helpers shared by the predefined Python filters (the twins of src/filter/predefined/fields.ts)."""

import math


def number_field(candidate, field):
    """A candidate field as a finite number, or None when it is null, missing or not a number."""
    value = candidate.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


def is_positive_difference(candidate):
    """A positive subtraction (science - reference): ZTF writes isdiffpos as "t" (older alerts "1")."""
    return candidate.get("isdiffpos") in ("t", "1")
