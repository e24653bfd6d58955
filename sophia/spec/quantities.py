"""Kubernetes resource quantities as numbers, for comparisons (request ≤ limit)."""

from __future__ import annotations

MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def cpu_cores(quantity: str) -> float:
    """'500m' → 0.5, '2' → 2.0 (the spec's pattern has already been checked)."""
    if quantity.endswith("m"):
        return int(quantity[:-1]) / 1000
    return float(quantity)


def memory_bytes(quantity: str) -> float:
    """'512Mi' → 536870912.0, '1G' → 1e9."""
    for suffix in sorted(MEMORY_UNITS, key=len, reverse=True):
        if suffix and quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * MEMORY_UNITS[suffix]
    return float(quantity)
