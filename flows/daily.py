"""The daily compliance run: ingest → infer-calls (audio → ASR → redaction → classification → embeddings)
→ dbt build → GX → verdicts, artifacts and stage telemetry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote
from pydantic import SecretStr

from flows.audio import analyse_audio
from flows.classify import classify_calls
from flows.config import Settings, get_settings
from flows.day import parse_prefixes, yesterday
from flows.embed import embed_transcripts
from flows.ingest import ingest, select_manifests
from flows.quality import gx_checkpoint
from flows.redact import redact_transcripts
from flows.report import write_day_report
from flows.run_summary import (
    RunSummary,
    break_down_verdicts,
    count_rejects,
    publish_artifacts,
    record_run,
    record_stage_runs,
    summarize_verdicts,
)
from flows.runtime import IO_RETRIES, Shard, current_run_id
from flows.scaleout import make_task_runner, shard_count
from flows.stage import StageResult, merge_results
from flows.storage import is_s3, parse_s3_uri
from flows.telemetry import StageMeter, StageTelemetry
from flows.transcribe import transcribe
from flows.transform import dbt_build
from warehouse.db import plain_url, ready_database, secret_url_parameter
from warehouse.vault import open_vault

PER_CALL_STAGES = (analyse_audio, transcribe, redact_transcripts, classify_calls, embed_transcripts)


@task(name="prepare-database", cache_policy=NONE, **IO_RETRIES)
def prepare_database() -> str:
    """Start the embedded database (or use DATABASE_URL) and apply pending migrations."""
    return ready_database()


def resolve_inputs(
    settings: Settings, manifests_dir: str | None, calls_file: str | None, audio_root: str | None
) -> tuple[Path, Path, str]:
    manifests = manifests_dir or settings.manifests_dir
    calls = calls_file or settings.calls_file
    audio = audio_root or settings.audio_root
    missing = [
        name
        for name, value in (
            ("CALLAUDIT_MANIFESTS_DIR", manifests),
            ("CALLAUDIT_CALLS_FILE", calls),
            ("CALLAUDIT_AUDIO_ROOT", audio),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"set {', '.join(missing)} (or pass them as parameters) to say where the inputs are")
    if not Path(manifests).is_dir():
        raise FileNotFoundError(
            f"manifests folder {manifests} does not exist (--manifests / CALLAUDIT_MANIFESTS_DIR)"
        )
    if not Path(calls).is_file():
        raise FileNotFoundError(f"call records file {calls} does not exist (--calls / CALLAUDIT_CALLS_FILE)")
    if is_s3(str(audio)):
        try:
            parse_s3_uri(str(audio))
        except ValueError as exc:
            raise ValueError(f"audio root: {exc} (--audio-root / CALLAUDIT_AUDIO_ROOT)") from None
    elif not Path(audio).is_dir():
        raise FileNotFoundError(f"audio root {audio} is not a folder (--audio-root / CALLAUDIT_AUDIO_ROOT)")
    return Path(manifests), Path(calls), str(audio)


def check_prefixes(
    settings: Settings, manifests: Path, day: dt.date, prefixes: list[str] | None, *, need_files: bool
) -> None:
    """Stop before anything runs when ``--prefix`` selects nothing: a prefix that is no manifest type or
    TYPE_OFFER of the contract (a typo), or, with ``need_files`` (``callaudit run``: someone typed it), one
    that no manifest of the day in the folder matches. A scheduled run or a backfill day with no file of
    its prefix is an empty day, not an error."""
    if not prefixes:
        return
    contract = settings.contract()
    known = [f"{t}_{o}" for t in contract.types for o in contract.offers]
    unknown = [p for p in prefixes if not any(k.startswith(p) for k in known)]
    if unknown:
        raise ValueError(
            f"--prefix {','.join(unknown)} matches no manifest type: use TYPE or TYPE_OFFER, one of "
            f"{', '.join(known)}"
        )
    if need_files and not select_manifests(manifests, settings, day, prefixes)[0]:
        raise FileNotFoundError(
            f"no manifest of {day.isoformat()} in {manifests} matches --prefix {','.join(prefixes)} "
            f"(names like <TYPE>_<OFFER>_{day:%Y%m%d}.csv)"
        )


@secret_url_parameter
@flow(name="infer-calls", log_prints=True)
def infer_calls(database_url: SecretStr, shards: int) -> list[StageResult]:
    """The per-call stages in order, each as ``shards`` tasks side by side on the configured task runner
    (audio analysis → transcription → redaction → classification → embeddings).

    The settings are read here, from the environment, not passed in: a flow run's parameters are stored
    and shown by Prefect, and the settings hold credentials (the AWS keys); the URL is a ``SecretStr``."""
    settings = get_settings()
    url = plain_url(database_url)
    merged = []
    for stage in PER_CALL_STAGES:
        futures = [stage.submit(url, settings, Shard(i, shards)) for i in range(shards)]
        merged.append(merge_results([f.result() for f in futures]))
    return merged


def _timed(meter: StageMeter, items: int, errors: int = 0, latencies=()) -> StageTelemetry:
    """The telemetry of a stage that reports its counts at the end (ingest, dbt, GX)."""
    meter.items, meter.errors, meter.latencies = items, errors, list(latencies)
    return meter.done()


@flow(name="asr-backlog", log_prints=True)
def asr_backlog() -> dict:
    """Audio analysis and transcription of every recording not yet done (the GPU pool's deployment)."""
    settings = get_settings()
    url = prepare_database()
    heard = analyse_audio(url, settings)
    transcribed = transcribe(url, settings)
    return {"analysed": heard.processed, "transcribed": transcribed.processed}


@flow(name="daily-compliance", log_prints=True)
def daily_compliance(
    date: dt.date | None = None,
    prefix: str | None = None,
    manifests_dir: str | None = None,
    calls_file: str | None = None,
    audio_root: str | None = None,
) -> RunSummary:
    """Audit the suspended orders of ``date`` (default: yesterday) for ``prefix`` (default: all).

    ``prefix`` selects manifests by ``<TYPE>_<OFFER>`` (e.g. ``SAV`` or ``SAV_ADSL,ACQUISITION_VULA``).
    """
    logger = get_run_logger()
    settings = get_settings()
    day = date or yesterday(settings.timezone)
    prefixes = parse_prefixes(prefix)
    manifests, calls, audio = resolve_inputs(settings, manifests_dir, calls_file, audio_root)
    check_prefixes(settings, manifests, day, prefixes, need_files=False)
    run_id = current_run_id() or f"local-{dt.datetime.now(dt.UTC).isoformat()}"
    url = prepare_database()
    open_vault(url, settings)  # a missing or wrong vault key stops the run before it writes anything

    meter = StageMeter("ingest")
    loaded = ingest(manifests, calls, audio, day=day, prefixes=prefixes, database_url=SecretStr(url))
    ingest_telemetry = _timed(meter, loaded.rows_inserted, loaded.rejected)

    shards = shard_count(settings)
    runner = make_task_runner(settings)
    heard, transcribed, redacted, classified, embedded = infer_calls.with_options(task_runner=runner)(
        SecretStr(url), shards
    )

    meter = StageMeter("dbt build")
    build = dbt_build(SecretStr(url))
    dbt_telemetry = _timed(meter, build.nodes, latencies=build.node_seconds)
    report = None
    stages = [ingest_telemetry, *(r.telemetry for r in (heard, transcribed, redacted, classified, embedded))]
    stages.append(dbt_telemetry)
    if settings.run_gx:
        meter = StageMeter("expectations")
        report = gx_checkpoint(url)
        stages.append(_timed(meter, report.evaluated, len(report.failures)))
    breakdown = break_down_verdicts(url, day)
    summary = RunSummary(
        day=day.isoformat(),
        prefixes=prefixes,
        rows_inserted=loaded.rows_inserted,
        rejected_now=loaded.rejected,
        rejects_total=count_rejects(url),
        recordings_analysed=heard.processed,
        recordings_transcribed=transcribed.processed,
        recordings_redacted=redacted.processed,
        calls_classified=classified.processed,
        classifications_untrusted=classified.counts["untrusted"],
        llm_tokens=classified.counts["tokens"],
        recordings_embedded=embedded.processed,
        dbt_nodes=build.nodes,
        expectations=report.evaluated if report else 0,
        verdicts=summarize_verdicts(url, day),
        data_docs=str(report.data_docs) if report and report.data_docs else None,
        ingest=loaded.as_dict(),
        breakdown=breakdown.rows,
        previous_day=breakdown.previous_day.isoformat() if breakdown.previous_day else None,
        previous_orders=breakdown.previous_orders,
        previous_compliant=breakdown.previous_compliant,
        stages=[t for t in stages if t is not None],
        run_id=run_id,
    )
    # quote(): the summary is plain data, passed without Prefect's input tracking. Tracked, a value it shares
    # with a subflow's result (dbt-build's node count, an int above 256) becomes a "flow_run" task input,
    # which Prefect's UI cannot read: the run's Task Runs tab would list none.
    record_stage_runs(url, run_id, day, quote(summary.stages))
    summary.report_files = write_day_report(url, day, prefixes, settings)
    publish_artifacts(url, quote(summary))
    record_run(url, run_id, {"date": day, "prefix": prefix}, quote(summary), "Completed")
    logger.info(
        "daily-compliance %s: %d audited orders, %d compliant, %d rows inserted, %d rejects",
        day,
        summary.orders,
        summary.compliant,
        summary.rows_inserted,
        summary.rejects_total,
    )
    return summary
