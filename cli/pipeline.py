"""The audit's commands: synth, demo, run, report, evaluate, explain, clip — each a short function over the
flow or package that does the work."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from rich.markdown import Markdown
from rich.table import Table

from cli.output import console, err_console, print_report, print_summary, where_next


def cmd_synth(args: argparse.Namespace) -> int:
    from flows.config import get_settings
    from flows.day import yesterday
    from synth import generate

    settings = get_settings()
    day = args.date or yesterday(settings.timezone)
    started = time.perf_counter()
    summary = generate(
        Path(args.out),
        orders=args.orders,
        seed=args.seed,
        day=day,
        timezone=settings.timezone,
        country_code=settings.default_country_code,
        progress=sys.stderr.isatty(),
        duplicates=getattr(args, "duplicates", None),
    )
    console.print(
        f"[green]synth[/]: {summary.orders} orders ({summary.audited_orders} audited), "
        f"{summary.calls} calls ({summary.duplicate_calls} duplicate attempts), "
        f"{summary.audio_files} recordings ({summary.seconds_of_audio / 60:.1f} min of audio), "
        f"{summary.malformed_rows} malformed rows → {args.out} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from flows.config import get_settings
    from flows.daily import check_prefixes, daily_compliance, resolve_inputs
    from flows.day import parse_prefixes, yesterday

    settings = get_settings()
    manifests, _, _ = resolve_inputs(settings, str(args.manifests), str(args.calls), args.audio_root)
    day = args.date or yesterday(settings.timezone)
    check_prefixes(settings, manifests, day, parse_prefixes(args.prefix), need_files=True)
    started = time.perf_counter()
    summary = daily_compliance(
        date=args.date,
        prefix=args.prefix,
        manifests_dir=str(args.manifests),
        calls_file=str(args.calls),
        audio_root=args.audio_root,
    )
    print_summary(summary, time.perf_counter() - started)
    print_report(summary)
    where_next()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the day's compliance report (read from the marts) and print the paths written."""
    from flows.config import get_settings
    from flows.day import parse_prefixes
    from flows.report import publish_report
    from warehouse.db import ready_database

    settings = get_settings()
    out = args.out or settings.report_folder
    written = publish_report(
        ready_database(settings), args.date, parse_prefixes(args.prefix), out, args.format
    )
    for path in written:
        print(path)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.config import get_settings
    from flows.day import yesterday

    settings = get_settings()
    out = Path(args.out) if args.out else settings.state_dir / "demo-data"
    day = args.date or yesterday(settings.timezone)
    if not (out / "calls.csv").exists() or args.fresh:
        if out.exists():
            shutil.rmtree(out)
        cmd_synth(argparse.Namespace(out=out, orders=args.orders, seed=args.seed, date=day))
    else:
        console.print(f"reusing the demo data set in {out} (--fresh to make a new one)")
    from flows.daily import daily_compliance

    started = time.perf_counter()
    summary = daily_compliance(
        date=day,
        manifests_dir=str(out / "manifests"),
        calls_file=str(out / "calls.csv"),
        audio_root=str(out / "audio"),
    )
    print_summary(summary, time.perf_counter() - started)
    print_report(summary)
    console.print(f"ground truth of this data set: {out / 'truth' / 'orders.csv'}")
    where_next()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the audited warehouse against a labelled set's truth; print the figures, write them as JSON."""
    from flows.config import get_settings
    from flows.evaluate import evaluate, report_markdown

    labelled = Path(args.labelled).resolve()
    for needed in ("orders.csv", "calls.csv"):
        if not (labelled / "truth" / needed).is_file():
            missing = labelled / "truth" / needed
            console.print(f"[red]error:[/] {missing} is missing (a labelled set has truth/)")
            return 2
    out = args.out or get_settings().state_dir / "evaluation" / f"{labelled.name}.json"
    results = evaluate(str(labelled), str(out))
    console.print(Markdown(report_markdown(results)))
    console.print(f"figures: {out}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print an order's verdict and the proof of each failed rule (marts.verdict_evidence)."""
    from flows.config import get_settings
    from flows.explain import NotFound, explain
    from warehouse.db import ready_database

    try:
        explanations = explain(ready_database(get_settings()), args.order)
    except NotFound as exc:
        err_console.print(f"[red]error:[/] {exc}")
        return 2
    for e in explanations:
        verdict = "compliant" if e.compliant else f"NOT compliant: {e.reasons}"
        console.print(f"[bold]{e.order_key}[/] — {e.motif} — suspended {e.suspended_on} — {verdict}")
        if e.needs_review:
            console.print(f"  needs review: {e.review_reason}")
        if e.decided_by != "machine":
            console.print(f"  decided by {e.decided_by}")
        if not e.evidence:
            continue
        table = Table("rule", "call", "#", "started", "seconds", "what it shows", box=None, pad_edge=False)
        for ev in e.evidence:
            seconds = "" if ev.start_s is None else f"{ev.start_s:.1f}–{ev.end_s:.1f}"
            table.add_row(
                ev.rule,
                ev.call_id or "—",
                "" if ev.attempt_number is None else str(ev.attempt_number),
                "" if ev.started_at is None else f"{ev.started_at:%Y-%m-%d %H:%M}",
                seconds,
                ev.detail + (f"\n  « {ev.transcript_redacted} »" if ev.transcript_redacted else ""),
            )
        console.print(table)
    return 0


def cmd_clip(args: argparse.Namespace) -> int:
    """Cut seconds START to END of a call's recording into a WAV file."""
    from flows.config import get_settings
    from flows.explain import NotFound, clip
    from warehouse.db import ready_database

    settings = get_settings()
    try:
        out, seconds = clip(ready_database(settings), settings, args.call_id, args.start, args.end, args.out)
    except (NotFound, ValueError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        return 2
    print(f"{out} ({seconds:.2f} s)")
    return 0
