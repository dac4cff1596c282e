"""CLI: python -m synth OUT --orders N --seed S [--date YYYY-MM-DD]."""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

from synth import generate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m synth", description="Generate a synthetic callaudit data set."
    )
    p.add_argument("out", type=Path)
    p.add_argument("--orders", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--date", type=date.fromisoformat, default=None, help="suspension day (default: today)")
    p.add_argument("--timezone", default="Africa/Casablanca")
    p.add_argument("--country-code", default="212")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--duplicates", type=int, default=None, help="duplicate attempts to plant (default: 6%% of orders)"
    )
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    summary = generate(
        a.out,
        a.orders,
        a.seed,
        a.date or date.today(),
        a.timezone,
        a.country_code,
        progress=not a.no_progress,
        workers=a.workers,
        duplicates=a.duplicates,
    )
    for k, v in asdict(summary).items():
        print(f"{k}: {v}")
    print(f"elapsed_s: {time.perf_counter() - t0:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
