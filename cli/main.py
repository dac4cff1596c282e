"""The ``callaudit`` command: synth, demo, run, report, explain, clip, db, docs, …

``build_parser`` is the one place that lists every subcommand with its help; the commands live in
:mod:`cli.pipeline` (the audit) and :mod:`cli.services` (what surrounds it), what they print in
:mod:`cli.output`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from pathlib import Path

from cli.output import console
from cli.pipeline import cmd_clip, cmd_demo, cmd_evaluate, cmd_explain, cmd_report, cmd_run, cmd_synth
from cli.services import cmd_asr, cmd_db, cmd_docs, cmd_review, cmd_serve, cmd_ui, cmd_vault


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


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
