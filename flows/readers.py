"""Reading input files: the text encoding (UTF-8, UTF-16 or cp1252) and delimiter of a CSV, the cells of an
XLSX workbook. flows/landing.py lands them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from inference.contract import ContractError


@dataclass
class Table:
    headers: list[object]
    rows: list[tuple[int, list[object]]]  # (1-based data row number, cells)


def _utf16_codec(data: bytes) -> str | None:
    """``utf-16`` when the bytes start with a UTF-16 byte-order mark, ``utf-16-le``/``-be`` when every other
    byte of the start is NUL (ASCII text written as UTF-16 without a mark), else None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:512]
    if len(sample) >= 4 and len(sample) % 2 == 0:
        odd_nuls = sample[1::2].count(0) / (len(sample) // 2)
        even_nuls = sample[0::2].count(0) / (len(sample) // 2)
        if odd_nuls > 0.9 and even_nuls == 0:
            return "utf-16-le"
        if even_nuls > 0.9 and odd_nuls == 0:
            return "utf-16-be"
    return None


def decode(data: bytes, name: str = "file") -> str:
    """The text of ``data``: UTF-16 when detectable, else UTF-8, else cp1252; a ContractError naming the file
    and the first undecodable byte when none of them reads it."""
    codec = _utf16_codec(data)
    if codec is not None:
        try:
            return data.decode(codec).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise ContractError(f"{name} looks like UTF-16 but is not: {exc.reason} at {exc.start}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        byte = data[exc.start : exc.start + 1].hex()
        raise ContractError(
            f"{name} is neither UTF-8, UTF-16 nor cp1252 text: byte 0x{byte} at offset {exc.start}"
        ) from exc


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


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
