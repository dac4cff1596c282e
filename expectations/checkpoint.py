"""Run every suite against the warehouse through one GX checkpoint; Data Docs are written on the way."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from expectations.suites import SUITES, Expect, Suite
from inference.text import fold
from warehouse.db import redact_url

log = logging.getLogger(__name__)


@dataclass
class Failure:
    table: str
    expectation: str
    kwargs: dict
    detail: str

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.table}: {self.expectation}({args}) failed — {self.detail}"


@dataclass
class CheckpointReport:
    success: bool
    evaluated: int
    failures: list[Failure]
    data_docs: Path | None

    def summary(self) -> str:
        if self.success:
            return f"Great Expectations: {self.evaluated} expectations passed"
        lines = "\n  ".join(str(f) for f in self.failures)
        return f"Great Expectations: {len(self.failures)} of {self.evaluated} expectations failed:\n  {lines}"


class ExpectationsFailed(RuntimeError):
    def __init__(self, report: CheckpointReport) -> None:
        super().__init__(report.summary())
        self.report = report


def input_counts(url: str, audited_status: str) -> dict[str, int]:
    """What each table's row count must equal, computed from its input, not from the table itself."""
    with psycopg.connect(url) as conn:
        loaded = dict(
            conn.execute(
                "select source_kind, coalesce(sum(row_count), 0)::int from ops.source_files group by 1"
            ).fetchall()
        )
        wanted_audio = conn.execute(
            """select count(distinct c.audio_path) from raw.calls c
               where c.audio_path is not null and not exists (
                   select 1 from ops.rejects r where r.source_kind = 'audio' and r.source = c.audio_path)"""
        ).fetchone()[0]
        statuses = conn.execute(
            "select distinct order_type, order_id, status from raw.manifest_rows"
        ).fetchall()
        recordings = conn.execute(
            """select count(distinct f.sha256) from raw.audio_files f where not exists (
                   select 1 from ops.rejects r
                   where r.source_kind = 'audio_analysis' and r.source = f.audio_path)"""
        ).fetchone()[0]
        transcripts = conn.execute("select count(*) from raw.transcripts").fetchone()[0]
        analysed_calls = conn.execute(
            """select count(distinct c.call_id) from raw.calls c
               join raw.audio_files f on f.audio_path = c.audio_path
               where exists (select 1 from raw.audio_analysis a where a.sha256 = f.sha256)"""
        ).fetchone()[0]
    audited = {(t, o) for t, o, status in statuses if fold(status) == fold(audited_status)}
    return {
        "manifest_rows": loaded.get("manifest", 0),
        "calls": loaded.get("calls", 0),
        "audio_files": wanted_audio,
        "audited_orders": len(audited),
        "recordings": recordings,
        "transcripts": transcripts,
        "analysed_calls": analysed_calls,
    }


def _expectation(spec: Expect):
    import great_expectations as gx

    return getattr(gx.expectations, spec.kind)(**spec.kwargs)


def _suite_expectations(suite: Suite, counts: dict[str, int]) -> list[Expect]:
    specs = list(suite.expectations)
    if suite.row_count_from is not None:
        specs.append(Expect("ExpectTableRowCountToEqual", {"value": counts[suite.row_count_from]}))
    if suite.row_count_at_least is not None:
        specs.append(
            Expect("ExpectTableRowCountToBeBetween", {"min_value": counts[suite.row_count_at_least]})
        )
    return specs


# GX stores its data source in gx/great_expectations.yml; the connection string is kept out of that file as
# a ${VAR} that GX substitutes from the environment when it connects (the password never reaches disk).
GX_CONNECTION_VAR = "CALLAUDIT_GX_CONNECTION_STRING"


@contextmanager
def connection_in_environment(sqlalchemy_url: str) -> Iterator[str]:
    """Export the connection string under ``GX_CONNECTION_VAR`` for the block; yield its ``${VAR}``."""
    saved = os.environ.get(GX_CONNECTION_VAR)
    os.environ[GX_CONNECTION_VAR] = sqlalchemy_url
    try:
        yield "${" + GX_CONNECTION_VAR + "}"
    finally:
        if saved is None:
            os.environ.pop(GX_CONNECTION_VAR, None)
        else:
            os.environ[GX_CONNECTION_VAR] = saved


def run_checkpoint(sqlalchemy_url: str, url: str, gx_dir: Path, audited_status: str) -> CheckpointReport:
    with connection_in_environment(sqlalchemy_url) as connection_string:
        return _run_checkpoint(connection_string, url, gx_dir, audited_status)


def _run_checkpoint(connection_string: str, url: str, gx_dir: Path, audited_status: str) -> CheckpointReport:
    import great_expectations as gx
    import pgvector.sqlalchemy  # noqa: F401  (teaches SQLAlchemy the vector type GX reflects)
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    counts = input_counts(url, audited_status)
    gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_or_update_sql(name="callaudit", connection_string=connection_string)
    definitions = []
    specs_by_suite: dict[str, list[Expect]] = {}
    for suite in SUITES:
        try:
            asset = source.get_asset(suite.name)
        except LookupError:
            asset = source.add_table_asset(name=suite.name, table_name=suite.table, schema_name=suite.schema)
        try:
            batch = asset.get_batch_definition("whole table")
        except (KeyError, LookupError):
            batch = asset.add_batch_definition_whole_table("whole table")
        specs = _suite_expectations(suite, counts)
        specs_by_suite[suite.name] = specs
        gx_suite = gx.ExpectationSuite(name=suite.name, expectations=[_expectation(s) for s in specs])
        gx_suite = context.suites.add_or_update(gx_suite)
        definitions.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
            )
        )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name="daily_compliance",
            validation_definitions=definitions,
            actions=[],
            result_format={"result_format": "SUMMARY"},
        )
    )
    retire_suites(context, {suite.name for suite in SUITES})
    result = checkpoint.run()
    # The Data Docs of this run, built once: the pages of its validation results and suites, then the
    # index. (GX's UpdateDataDocsAction builds the whole site, index included, once per suite, and the index
    # reads every validation result stored so far: a cost that grew with each suite and each past run.)
    context.build_data_docs(
        resource_identifiers=[
            identifier
            for result_id, validation in result.run_results.items()
            for identifier in (result_id, ExpectationSuiteIdentifier(name=validation.suite_name))
        ],
        build_index=True,
    )
    failures: list[Failure] = []
    evaluated = 0
    for validation in result.run_results.values():
        table = validation.suite_name
        for outcome in validation.results:
            evaluated += 1
            if outcome.success:
                continue
            config = outcome.expectation_config
            kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)}
            detail = _describe(outcome)
            failures.append(Failure(table, config.type, kwargs, detail))
    docs = gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return CheckpointReport(
        result.success and not failures, evaluated, failures, docs if docs.exists() else None
    )


def retire_suites(context, current: set[str]) -> list[str]:
    """Remove from the GX context the suites and validation definitions of tables the checkpoint no longer
    validates (their checks are dbt tests now), so that the Data Docs list only the suites that run; the
    validation results stored by earlier runs stay, as history. Returns the names removed."""
    retired = sorted({d.name for d in context.validation_definitions.all()} - current)
    for name in retired:
        context.validation_definitions.delete(name)
    stale_suites = sorted({s.name for s in context.suites.all()} - current)
    for name in stale_suites:
        context.suites.delete(name)
    return sorted(set(retired) | set(stale_suites))


def _describe(outcome) -> str:
    if outcome.exception_info and outcome.exception_info.get("raised_exception"):
        return f"error: {redact_url(str(outcome.exception_info.get('exception_message')))}"
    res = outcome.result or {}
    if "observed_value" in res:
        return f"observed {res['observed_value']!r}"
    unexpected = res.get("unexpected_count")
    sample = res.get("partial_unexpected_list") or []
    return f"{unexpected} unexpected value(s), e.g. {sample[:5]!r}"
