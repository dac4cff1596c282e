"""Manifest rows in the messy input formats (numbers, dates, motifs, duplicates, malformed rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from synth.scenarios import Order, new_client

ACQ_HEADER: tuple[str, ...] = (
    "N° Commande",
    "Numéro Client",
    "Date Commande",
    "Date Suspension",
    "Statut",
    "Motif Suspension",
    "Offre",
)
SAV_HEADER: tuple[str, ...] = (
    "Num Ticket",
    "MSISDN",
    "Date Création",
    "Date Suspension",
    "Etat",
    "Motif",
    "Offre",
)
MOTIF_TEXT: dict[str, tuple[str, ...]] = {
    "injoignable": ("Client injoignable", "CLIENT INJOIGNABLE", "client injoignable", "Client Injoignable "),
    "refuse": (
        "client refuse installation",
        "Client refuse installation",
        "CLIENT REFUSE L'INSTALLATION",
        "Client a refusé",
    ),
    "reporte": ("Client reporte RDV", "client reporte rdv", "Client a reporté le RDV", "CLIENT REPORTE RDV"),
    "absent": ("Client absent", "CLIENT ABSENT", "client absent du domicile", "Client Absent"),
}
MALFORMED: tuple[str, ...] = ("empty_order_id", "bad_date", "bad_client_number")


@dataclass
class ManifestFile:
    name: str
    order_type: str
    offer: str
    header: tuple[str, ...]
    rows: list[list[Any]] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (1-based data row, reason)

    @property
    def is_xlsx(self) -> bool:
        return self.name.endswith(".xlsx")


def file_name(order_type: str, offer: str, day: date) -> str:
    ext = "xlsx" if order_type == "SAV" else "csv"
    return f"{order_type}_{offer}_{day:%Y%m%d}.{ext}"


def format_number(e164: str, country_code: str, rng: np.random.Generator, allow_int: bool = False) -> Any:
    nsn = e164[len(country_code) :]
    national = "0" + nsn
    r = rng.random()
    if allow_int and r < 0.08:
        return int(nsn)
    if r < 0.5:
        return national
    if r < 0.65:
        return " ".join([national[:2]] + [national[i : i + 2] for i in range(2, len(national), 2)])
    if r < 0.8:
        return "+" + e164
    if r < 0.9:
        return "00" + e164
    return e164


def _format_date(d: date, xlsx: bool, rng: np.random.Generator) -> Any:
    if xlsx:
        return datetime(d.year, d.month, d.day) if rng.random() < 0.5 else f"{d:%d/%m/%Y}"
    return f"{d:%d/%m/%Y}" if rng.random() < 0.85 else d.isoformat()


def _row(order: Order, xlsx: bool, country_code: str, rng: np.random.Generator) -> list[Any]:
    motifs = MOTIF_TEXT[order.motif_key]
    return [
        order.order_id,
        format_number(order.client_e164, country_code, rng, allow_int=xlsx),
        _format_date(order.ordered_on, xlsx, rng),
        _format_date(order.suspended_on, xlsx, rng),
        order.status,
        motifs[int(rng.integers(0, len(motifs)))],
        order.offer,
    ]


def _malformed_row(
    kind: str,
    base: Order,
    xlsx: bool,
    country_code: str,
    rng: np.random.Generator,
    order_id: str,
    client: str,
) -> list[Any]:
    row = _row(base, xlsx, country_code, rng)
    row[0] = order_id
    row[1] = format_number(client, country_code, rng)
    if kind == "empty_order_id":
        row[0] = ""
    elif kind == "bad_date":
        row[2] = str(rng.choice([f"31/02/{base.suspended_on.year}", "hier", "00/13/2026"]))
    else:
        row[1] = "n/a"
    return row


def _free_id(order_type: str, start: int, used: set[str]) -> str:
    k = start
    while True:
        oid = f"CMD-{k:07d}" if order_type == "ACQUISITION" else f"TCK{k * 10:08d}"
        if oid not in used:
            used.add(oid)
            return oid
        k += 1


def build_manifests(orders: list[Order], day: date, country_code: str, seed: int) -> list[ManifestFile]:
    """Four manifest files: shuffled rows, ~5% exact duplicates, 3 malformed rows spread across files."""
    rng = np.random.default_rng([seed, day.toordinal(), len(orders), 3])
    files = {
        (t, o): ManifestFile(file_name(t, o, day), t, o, SAV_HEADER if t == "SAV" else ACQ_HEADER)
        for t in ("ACQUISITION", "SAV")
        for o in ("ADSL", "VULA")
    }
    for order in orders:
        mf = files[(order.order_type, order.offer)]
        row = _row(order, mf.is_xlsx, country_code, rng)
        mf.rows.append(row)
        if rng.random() < 0.05:
            mf.rows.append(list(row))
    for mf in files.values():
        mf.rows = [mf.rows[i] for i in rng.permutation(len(mf.rows))]

    used_clients = {o.client_e164 for o in orders}
    used_ids = {o.order_id for o in orders}
    keys = list(files)
    keys = [keys[i] for i in rng.permutation(len(keys))]
    for n, kind in enumerate(MALFORMED):
        mf = files[keys[n % len(keys)]]
        base = orders[int(rng.integers(0, len(orders)))] if orders else None
        if base is None:
            continue
        base = Order(
            mf.order_type,
            mf.offer,
            "",
            base.client_e164,
            base.ordered_on,
            day,
            "Suspendu",
            base.motif_key,
            "malformed",
            True,
        )
        oid = _free_id(mf.order_type, 9_000_000 + n, used_ids)
        client = new_client(rng, country_code, used_clients)
        pos = int(rng.integers(0, len(mf.rows) + 1))
        mf.rows.insert(pos, _malformed_row(kind, base, mf.is_xlsx, country_code, rng, oid, client))
        mf.rejects = [(r + 1 if r >= pos + 1 else r, why) for r, why in mf.rejects] + [(pos + 1, kind)]
    return list(files.values())
