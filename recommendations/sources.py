"""Pure readers (no Django) turning public data sets and CSVs into the app's import format.

Events frame: ``user_id, product_id, event`` (view|cart|purchase|rating), ``timestamp``
(unix seconds, float) and ``value`` (quantity for purchases, score for ratings).
Products frame: ``product_id, name, description, category, brand, price``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .algorithms.dataset import timestamps_to_unix

EVENT_COLUMNS = ["user_id", "product_id", "event", "timestamp", "value"]
PRODUCT_COLUMNS = ["product_id", "name", "description", "category", "brand", "price"]
EVENT_KINDS = ("view", "cart", "purchase", "rating")


def read_movielens100k(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MovieLens 100K (``u.data``, ``u.item``, ``u.genre``) -> (events, products)."""
    path = Path(path)
    data = pd.read_csv(path / "u.data", sep="\t", header=None, names=["user_id", "product_id", "value", "ts"])
    events = pd.DataFrame(
        {
            "user_id": data["user_id"].astype(np.int64),
            "product_id": data["product_id"].astype(np.int64),
            "event": "rating",
            "timestamp": data["ts"].astype(np.float64),
            "value": data["value"].astype(np.float64),
        }
    )
    genre_file = path / "u.genre"
    if genre_file.exists():
        genres = [
            line.split("|")[0]
            for line in genre_file.read_text(encoding="latin-1").splitlines()
            if line.strip()
        ]
    else:
        genres = [f"genre{i}" for i in range(19)]
    cols = ["product_id", "title", "release", "video", "url", *genres]
    items = pd.read_csv(
        path / "u.item", sep="|", header=None, names=cols, encoding="latin-1", dtype={"title": str}
    )
    flags = items[genres].fillna(0).astype(int).to_numpy()
    names, descriptions, categories = [], [], []
    for row, title, release in zip(flags, items["title"].fillna(""), items["release"].fillna("")):
        item_genres = [g for g, f in zip(genres, row) if f]
        year = ""
        match = re.search(r"(\d{4})", str(release)) or re.search(r"\((\d{4})\)", str(title))
        if match:
            year = match.group(1)
        names.append(str(title))
        categories.append(item_genres[0] if item_genres else "")
        descriptions.append(" ".join(item_genres + ([year] if year else [])))
    products = pd.DataFrame(
        {
            "product_id": items["product_id"].astype(np.int64),
            "name": names,
            "description": descriptions,
            "category": categories,
            "brand": "",
            "price": np.nan,
        }
    )
    return events[EVENT_COLUMNS], products[PRODUCT_COLUMNS]


def read_completejourney(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete Journey sample (``transactions_sample.csv``, ``products_in_sample.csv``)."""
    path = Path(path)
    tx = pd.read_csv(path / "transactions_sample.csv")
    tx = tx[(tx["quantity"] > 0) & (tx["sales_value"] > 0)].copy()
    events = pd.DataFrame(
        {
            "user_id": tx["household_id"].to_numpy(),
            "product_id": tx["product_id"].to_numpy(),
            "event": "purchase",
            "timestamp": timestamps_to_unix(tx["transaction_timestamp"]),
            "value": tx["quantity"].astype(np.float64).to_numpy(),
        }
    )
    prod = pd.read_csv(path / "products_in_sample.csv", dtype=str, keep_default_na=False)
    prod["product_id"] = pd.to_numeric(prod["product_id"]).astype(np.int64)
    unit_price = (tx["sales_value"] / tx["quantity"]).groupby(tx["product_id"]).median()

    def clean(col: str) -> pd.Series:
        return prod[col].fillna("").astype(str).str.strip() if col in prod else pd.Series([""] * len(prod))

    description = (
        clean("department") + " " + clean("product_category") + " " + clean("product_type") + " "
        + clean("package_size").str.replace(r"\s+", " ", regex=True)
    ).str.replace(r"\s+", " ", regex=True).str.strip()
    products = pd.DataFrame(
        {
            "product_id": prod["product_id"],
            "name": clean("product_type"),
            "description": description,
            "category": clean("product_category"),
            "brand": clean("brand"),
            "price": prod["product_id"].map(unit_price).astype(np.float64),
        }
    )
    return events[EVENT_COLUMNS].reset_index(drop=True), products[PRODUCT_COLUMNS]


#: ``--format`` name -> reader of that public research data set (events, products)
RESEARCH_READERS = {"movielens100k": read_movielens100k, "completejourney": read_completejourney}


def normalise_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Check and coerce an events frame to the import format (unix-second timestamps)."""
    missing = {"user_id", "product_id", "event"} - set(frame.columns)
    if missing:
        raise ValueError(f"events frame lacks columns: {sorted(missing)}")
    out = pd.DataFrame(
        {
            "user_id": frame["user_id"],
            "product_id": frame["product_id"],
            "event": frame["event"].astype(str).str.strip().str.lower(),
            "timestamp": timestamps_to_unix(frame["timestamp"]) if "timestamp" in frame else 0.0,
            "value": pd.to_numeric(frame["value"], errors="coerce").fillna(1.0) if "value" in frame else 1.0,
        }
    )
    bad = set(out["event"].unique()) - set(EVENT_KINDS)
    if bad:
        raise ValueError(f"unknown event kinds: {sorted(bad)}")
    return out[EVENT_COLUMNS].reset_index(drop=True)


def normalise_products(frame: pd.DataFrame) -> pd.DataFrame:
    if "product_id" not in frame.columns:
        raise ValueError("products frame lacks product_id")
    out = pd.DataFrame({"product_id": frame["product_id"]})
    for col in ("name", "description", "category", "brand"):
        out[col] = frame[col].fillna("").astype(str) if col in frame else ""
    out["price"] = pd.to_numeric(frame["price"], errors="coerce") if "price" in frame else np.nan
    return out[PRODUCT_COLUMNS].reset_index(drop=True)


def read_events_csv(path: str | Path) -> pd.DataFrame:
    """A plain events CSV in the import format (timestamps unix seconds or ISO 8601)."""
    return normalise_events(pd.read_csv(path, dtype={"timestamp": str}, keep_default_na=True))


def read_products_csv(path: str | Path) -> pd.DataFrame:
    """A plain products CSV in the import format."""
    return normalise_products(pd.read_csv(path, keep_default_na=True))
