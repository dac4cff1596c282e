"""Synthetic data generator for callaudit: manifests, call recordings, calls.csv and ground truth."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from synth import writer
from synth.manifests import build_manifests
from synth.render import CallJob, DuplicateJob, RenderedCall, copy_recording, render_call
from synth.scenarios import Call, build_plan

__all__ = ["SynthSummary", "generate"]


@dataclass(frozen=True)
class SynthSummary:
    orders: int
    audited_orders: int
    calls: int
    audio_files: int
    manifest_rows: int
    malformed_rows: int
    seconds_of_audio: float
    duplicate_calls: int = 0


def _jobs(calls: list[Call], out_dir: Path, seed: int, tz: ZoneInfo, phrasebank: str) -> list[CallJob]:
    """Render jobs of the calls that get their own recording (not the duplicates)."""
    return [
        CallJob(
            i,
            seed,
            c.call_id,
            c.branch,
            f"{c.start_utc.astimezone(tz):%Y%m%d}",
            c.outcome,
            c.intent,
            c.behaviour,
            c.order_type,
            c.offer,
            str(out_dir),
            phrasebank,
        )
        for i, c in enumerate(calls)
        if not c.duplicate_of
    ]


def _duplicate_jobs(calls: list[Call], out_dir: Path, seed: int, tz: ZoneInfo) -> list[DuplicateJob]:
    return [
        DuplicateJob(
            i,
            seed,
            c.call_id,
            c.branch,
            f"{c.start_utc.astimezone(tz):%Y%m%d}",
            c.duplicate_kind,
            str(out_dir),
        )
        for i, c in enumerate(calls)
        if c.duplicate_of
    ]


def _render_all(jobs: list[CallJob], workers: int) -> Iterator[RenderedCall]:
    if workers <= 1 or len(jobs) < 8:
        yield from map(render_call, jobs)
        return
    with mp.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(render_call, jobs, chunksize=4)


def generate(
    out_dir: Path,
    orders: int,
    seed: int,
    day: date,
    timezone: str = "Africa/Casablanca",
    country_code: str = "212",
    progress: bool = True,
    workers: int = 2,
    duplicates: int | None = None,
    phrasebank: str = "synth.phrases",
) -> SynthSummary:
    """Generate a complete synthetic data set under out_dir; deterministic for its arguments.

    ``duplicates``: how many duplicate attempts to plant (a third of each kind: identical, reencoded,
    other_order); None plants the default share (6% of the orders, at least one of each kind from 40 on).
    Fewer are planted when the orders run out of candidates (SynthSummary.duplicate_calls says how many).
    ``phrasebank``: the importable module the calls' words come from (``synth.phrases``; an evaluation may
    pass a bank written apart from it, with the same names).
    """
    out_dir = Path(out_dir)
    tz = ZoneInfo(timezone)
    plan = build_plan(orders, seed, day, timezone, country_code, duplicate_count=duplicates)
    truth = out_dir / "truth"
    truth.mkdir(parents=True, exist_ok=True)

    files = build_manifests(plan.orders, day, country_code, seed)
    for mf in files:
        writer.write_manifest(mf, out_dir / "manifests")

    jobs = _jobs(plan.calls, out_dir, seed, tz, phrasebank)
    dup_jobs = _duplicate_jobs(plan.calls, out_dir, seed, tz)
    original_of = {c.call_id: c.duplicate_of for c in plan.calls if c.duplicate_of}
    rendered: dict[str, RenderedCall] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not progress,
    ) as bar:
        task = bar.add_task("Rendering calls", total=len(jobs) + len(dup_jobs))
        for r in _render_all(jobs, workers):
            rendered[r.call_id] = r
            bar.advance(task)
        for dj in dup_jobs:  # after every original is written
            rendered[dj.call_id] = copy_recording(dj, rendered[original_of[dj.call_id]])
            bar.advance(task)

    writer.write_calls(
        plan.calls,
        rendered,
        out_dir,
        tz,
        country_code,
        np.random.default_rng([seed, day.toordinal(), orders, 4]),
    )
    writer.write_truth_calls(plan.calls, rendered, truth)
    writer.write_truth_orders(plan.orders, plan.results, truth)
    malformed = writer.write_rejects(files, truth)
    writer.write_readme(truth, day, timezone, country_code, seed)
    return SynthSummary(
        orders=len(plan.orders),
        audited_orders=sum(o.audited for o in plan.orders),
        calls=len(plan.calls),
        audio_files=len(rendered),
        manifest_rows=sum(len(mf.rows) for mf in files),
        malformed_rows=malformed,
        seconds_of_audio=round(sum(r.duration_s for r in rendered.values()), 2),
        duplicate_calls=len(dup_jobs),
    )
