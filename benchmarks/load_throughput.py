"""Load throughput of the ingest loaders against plain COPY of the same file, in the same run.

Writes a calls.csv and a manifest CSV of N rows, loads each with callaudit's loader (hash, land the file
as text with COPY, type and validate every row in SQL, insert, rejects, bookkeeping) into a fresh database
on the embedded PostgreSQL, and copies the same bytes with a bare ``COPY … FROM STDIN (FORMAT csv)`` into
an all-text temporary table (no index, no WAL): the floor. A second floor COPYs the same bytes into a table
of the warehouse's shape (typed columns, the raw tables' indexes), which PostgreSQL types itself with no
validation or rejects: what writing the rows costs any loader. Prints a table and
writes JSON (benchmarks/results/load_throughput.json).

    .venv/bin/python benchmarks/load_throughput.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flows  # noqa: E402,F401  (offline environment)


def write_calls(path: Path, rows: int, rng: random.Random) -> None:
    start = datetime(2026, 11, 1, 8, tzinfo=UTC)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("call_id,branch,caller_number,client_number,start_time,duration_s,audio_path\n")
        for i in range(rows):
            at = start + timedelta(seconds=rng.randrange(0, 20 * 86400))
            fh.write(
                f"C{i:09d},ADSL_SAV,05220{rng.randrange(10**5):05d},06{rng.randrange(10**8):08d},"
                f"{at.isoformat()},{rng.uniform(5, 300):.2f},ADSL_SAV/{at:%Y%m%d}/C{i:09d}.wav\n"
            )


def write_manifest(path: Path, rows: int, rng: random.Random) -> None:
    with open(path, "w", encoding="cp1252") as fh:
        fh.write("N° Commande;Numéro Client;Date Commande;Date Suspension;Statut;Motif Suspension;Offre\n")
        for i in range(rows):
            fh.write(
                f"CMD-{i:08d};06{rng.randrange(10**8):08d};{rng.randrange(1, 10):02d}/11/2026;20/11/2026;"
                f"Suspendu;Client injoignable;ADSL\n"
            )


def timed_copy(conn, target: str, path: Path, delimiter: str, encoding: str) -> float:
    """Seconds to COPY the file's bytes as they are into ``target`` (a table and its column list)."""
    started = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy(
            f"copy {target} from stdin"
            f" (format csv, header true, delimiter '{delimiter}', encoding '{encoding}')"
        ) as copy,
        open(path, "rb") as fh,
    ):
        while block := fh.read(1 << 20):
            copy.write(block)
    return time.perf_counter() - started


def plain_copy(url: str, path: Path, columns: int, delimiter: str, encoding: str) -> float:
    import psycopg

    cols = ", ".join(f"c{i} text" for i in range(columns))
    with psycopg.connect(url) as conn:
        conn.execute(f"create temporary table floor_copy ({cols})")
        elapsed = timed_copy(conn, "floor_copy", path, delimiter, encoding)
        conn.rollback()
    return elapsed


# The same files COPYed straight into tables of the warehouse's shape (typed columns, the raw tables'
# indexes): what any loader pays to write the rows, with no validation, reject or bookkeeping at all.
TYPED_FLOORS = {
    "calls.csv": (
        "call_id text primary key, branch text, caller_number text, client_number text,"
        " start_time timestamptz, duration_s float8, audio_path text",
        ["create index on floor_typed (client_number, start_time)"],
    ),
    "manifest csv": (
        "order_id text, client_number text, ordered_on date, suspended_on date, status text, motif text,"
        " offer text, row_number serial primary key",
        ["create index on floor_typed (order_id)"],
    ),
}


def typed_copy(url: str, path: Path, label: str, delimiter: str, encoding: str) -> float:
    import psycopg

    columns, indexes = TYPED_FLOORS[label]
    names = [c.split()[0] for c in columns.split(", ") if "serial" not in c]
    with psycopg.connect(url) as conn:
        conn.execute("set local DateStyle = 'ISO, DMY'")
        conn.execute(f"create table floor_typed ({columns})")
        for statement in indexes:
            conn.execute(statement)
        elapsed = timed_copy(conn, f"floor_typed ({', '.join(names)})", path, delimiter, encoding)
        conn.rollback()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "load_throughput.json")
    args = parser.parse_args()

    import psycopg
    from psycopg.conninfo import make_conninfo

    from flows.config import get_settings
    from flows.ingest import load_calls, load_manifest
    from inference.contract import parse_manifest_name
    from warehouse.db import database_url, migrate

    settings = get_settings()
    server = database_url(settings)
    work = Path(mkdtemp(prefix="callaudit-bench-"))
    rng = random.Random(20261121)
    calls, manifest = work / "calls.csv", work / "ACQUISITION_ADSL_20261120.csv"
    write_calls(calls, args.rows, rng)
    write_manifest(manifest, args.rows, rng)
    name = parse_manifest_name(manifest.name, ["ACQUISITION", "SAV"], ["ADSL", "VULA"])

    results = []
    for label, path, loader, columns, delimiter, encoding in (
        ("calls.csv", calls, lambda url: load_calls.fn(url, calls, settings), 7, ",", "UTF8"),
        (
            "manifest csv",
            manifest,
            lambda url: load_manifest.fn(url, manifest, name, settings),
            7,
            ";",
            "WIN1252",
        ),
    ):
        loader_s, floor_s, typed_s = [], [], []
        for _ in range(args.repeat):
            db = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'create database "{db}"')
            url = make_conninfo(server, dbname=db)
            migrate(url)
            floor_s.append(plain_copy(url, path, columns, delimiter, encoding))
            typed_s.append(typed_copy(url, path, label, delimiter, encoding))
            started = time.perf_counter()
            result = loader(url)
            loader_s.append(time.perf_counter() - started)
            assert result.rows == args.rows, result
            started = time.perf_counter()
            again = loader(url)  # idempotent re-run: same bytes, nothing to do
            rerun = time.perf_counter() - started
            assert again.status == "unchanged"
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'drop database "{db}"')
        loader_med, floor_med = statistics.median(loader_s), statistics.median(floor_s)
        typed_med = statistics.median(typed_s)
        results.append(
            {
                "input": label,
                "rows": args.rows,
                "bytes": path.stat().st_size,
                "loader_s": round(loader_med, 3),
                "loader_rows_per_s": round(args.rows / loader_med),
                "copy_floor_s": round(floor_med, 3),
                "copy_rows_per_s": round(args.rows / floor_med),
                "loader_vs_copy": round(loader_med / floor_med, 2),
                "typed_copy_s": round(typed_med, 3),
                "typed_copy_rows_per_s": round(args.rows / typed_med),
                "loader_vs_typed_copy": round(loader_med / typed_med, 2),
                "rerun_s": round(rerun, 3),
            }
        )

    header = (
        f"{'input':<14}{'rows':>9}{'loader rows/s':>15}{'COPY rows/s':>13}{'loader/COPY':>13}"
        f"{'typed COPY rows/s':>19}{'loader/typed':>14}{'re-run s':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['input']:<14}{r['rows']:>9}{r['loader_rows_per_s']:>15,}{r['copy_rows_per_s']:>13,}"
            f"{r['loader_vs_copy']:>12.2f}×{r['typed_copy_rows_per_s']:>19,}{r['loader_vs_typed_copy']:>13.2f}×"
            f"{r['rerun_s']:>10.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"measured_at": datetime.now(UTC).isoformat(), "results": results}, indent=2)
    )
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
