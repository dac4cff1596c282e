"""Reading tabular input files: CSV in UTF-8 or cp1252 with ';' or ',', and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from inference.contract import ContractError


@dataclass
class Table:
    headers: list[object]
    rows: list[tuple[int, list[object]]]  # (1-based data row number, cells)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(name: str, data: bytes) -> Table:
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        headers = next(reader)
    except StopIteration as exc:
        raise ContractError(f"{name} is empty: no header row") from exc
    rows = [(n, list(r)) for n, r in enumerate(reader, start=1) if any(c.strip() for c in r)]
    return Table(headers=list(headers), rows=rows)


def read_xlsx(name: str, data: bytes) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ContractError(f"{name} is not a readable XLSX workbook: {exc}") from exc
    sheet = workbook.worksheets[0]
    values: Iterator[tuple] = sheet.iter_rows(values_only=True)
    try:
        headers = list(next(values))
    except StopIteration as exc:
        raise ContractError(f"{name} is empty: no header row") from exc
    rows = [
        (n, list(r))
        for n, r in enumerate(values, start=1)
        if any(c is not None and str(c).strip() for c in r)
    ]
    workbook.close()
    return Table(headers=headers, rows=rows)


def read_table(path: Path, data: bytes) -> Table:
    """The table in ``data``, the bytes of ``path`` (read once by the caller, who also hashes them)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path.name, data)
    if suffix == ".xlsx":
        return read_xlsx(path.name, data)
    raise ContractError(f"{path.name}: unsupported file type {suffix!r} (csv or xlsx)")
