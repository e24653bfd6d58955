"""What the data services cost per month, and the assumptions behind each figure.

One formula for the `monthly-budget` policy and for `sophia`'s estimate (which imports this
module from the pack), so the two always agree. Prices are list prices in USD; each item
carries the assumptions printed beside it.

Snowflake bills credits per hour a warehouse runs (by size, per cluster, per second after the
first minute); a warehouse runs while it answers queries and for `auto_suspend` seconds after.
Pinecone bills pod-based indexes per pod-hour and serverless ones per read unit, write unit
and GB stored.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2025-11-01"

SNOWFLAKE_CREDITS_PER_HOUR = {
    "XSMALL": 1,
    "SMALL": 2,
    "MEDIUM": 4,
    "LARGE": 8,
    "XLARGE": 16,
    "XXLARGE": 32,
    "XXXLARGE": 64,
    "X4LARGE": 128,
    "X5LARGE": 256,
    "X6LARGE": 512,
}
"""Standard warehouses (Snowflake's credit table); the provider also accepts the X-SMALL
spellings, normalised by `warehouse_size`."""
DEFAULT_USD_PER_CREDIT = 3.0
DEFAULT_ACTIVE_HOURS_PER_DAY = 8.0

PINECONE_POD_USD_PER_HOUR = {"s1": 0.096, "p1": 0.096, "p2": 0.144}
"""An x1 pod of each type (Standard plan); x2, x4, x8 cost 2, 4, 8 times as much."""
PINECONE_READ_USD_PER_MILLION = 16.0
PINECONE_WRITE_USD_PER_MILLION = 4.0
PINECONE_STORAGE_USD_PER_GB_MONTH = 0.33


SNOWFLAKE_WAREHOUSE = "snowflake:index/warehouse:Warehouse"
PINECONE_INDEX = "pulumi-python:dynamic/pinecone:Index"


@dataclass(frozen=True, slots=True)
class PricedItem:
    resource_type: str
    """The Pulumi type of the resource priced."""
    name: str
    """Its name in the cloud (the warehouse's, the index's)."""
    monthly_usd: float
    assumptions: str

    @property
    def item(self) -> str:
        kind = "warehouse" if self.resource_type == SNOWFLAKE_WAREHOUSE else "pinecone index"
        return f"{kind} {self.name}"


def warehouse_size(value: str) -> str:
    """'X-SMALL', '2X-LARGE', 'X2LARGE' → the credit table's spelling."""
    size = value.upper().replace("-", "")
    aliases = {"X2LARGE": "XXLARGE", "2XLARGE": "XXLARGE", "X3LARGE": "XXXLARGE",
               "3XLARGE": "XXXLARGE", "4XLARGE": "X4LARGE", "5XLARGE": "X5LARGE",
               "6XLARGE": "X6LARGE"}  # fmt: skip
    return aliases.get(size, size)


def snowflake_warehouse(
    name: str,
    size: str,
    max_clusters: int,
    auto_suspend_seconds: int,
    active_hours_per_day: float,
    usd_per_credit: float,
    hours_per_month: float,
) -> PricedItem:
    """Billed hours: each active hour ends with one auto-suspend tail, at most the whole day;
    a warehouse that never suspends (0) runs every hour of the month. All clusters assumed
    running (the upper bound of a multi-cluster warehouse)."""
    credits = SNOWFLAKE_CREDITS_PER_HOUR.get(warehouse_size(size))
    if credits is None:
        raise ValueError(f"unknown warehouse size {size!r}")
    days = hours_per_month / 24
    if auto_suspend_seconds <= 0:
        billed_hours = hours_per_month
        when = "never suspends: every hour billed"
    else:
        per_day = min(24.0, active_hours_per_day * (1 + auto_suspend_seconds / 3600))
        billed_hours = per_day * days
        when = (
            f"{active_hours_per_day:g} active h/day + {auto_suspend_seconds} s auto-suspend tail "
            f"= {billed_hours:,.1f} h"
        )
    monthly = credits * max_clusters * billed_hours * usd_per_credit
    return PricedItem(
        SNOWFLAKE_WAREHOUSE,
        name,
        round(monthly, 2),
        f"{size} {credits} credit/h × {max_clusters} cluster(s); {when}; "
        f"{usd_per_credit:g} USD/credit",
    )


def pinecone_pod_index(name: str, pod_type: str, pods: int, hours_per_month: float) -> PricedItem:
    family, _, size = pod_type.partition(".x")
    hourly = PINECONE_POD_USD_PER_HOUR.get(family)
    if hourly is None or not size.isdigit():
        raise ValueError(f"unknown Pinecone pod type {pod_type!r}")
    per_pod = hourly * int(size)
    return PricedItem(
        PINECONE_INDEX,
        name,
        round(per_pod * pods * hours_per_month, 2),
        f"{pods} × {pod_type} pod at {per_pod:g} USD/h × {hours_per_month:g} h",
    )


def pinecone_serverless_index(
    name: str, read_units: float, write_units: float, storage_gb: float
) -> PricedItem:
    monthly = (
        read_units / 1e6 * PINECONE_READ_USD_PER_MILLION
        + write_units / 1e6 * PINECONE_WRITE_USD_PER_MILLION
        + storage_gb * PINECONE_STORAGE_USD_PER_GB_MONTH
    )
    return PricedItem(
        PINECONE_INDEX,
        name,
        round(monthly, 2),
        f"serverless: {read_units:,.0f} RU × {PINECONE_READ_USD_PER_MILLION:g}/M + "
        f"{write_units:,.0f} WU × {PINECONE_WRITE_USD_PER_MILLION:g}/M + {storage_gb:g} GB × "
        f"{PINECONE_STORAGE_USD_PER_GB_MONTH:g}",
    )
