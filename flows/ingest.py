"""Ingest: manifests, call records and audio metadata into ``raw.*`` with COPY, idempotent by content.

A file whose sha256 is already recorded is skipped; a file whose content changed replaces its rows;
malformed rows, unknown headers and unreadable audio go to ``ops.rejects``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import soundfile
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from pydantic import SecretStr

from flows.config import Settings, get_settings
from flows.db import copy_rows, secret_url_parameter
from flows.progress import progress_bar
from flows.readers import Table, read_table
from flows.rejects import Reject, replace_rejects
from flows.runtime import IO_RETRIES, current_run_id, stage_lock
from flows.storage import AudioRoot, ObjectInfo, open_audio_root
from inference.contract import (
    ContractError,
    ManifestName,
    map_headers,
    parse_call_row,
    parse_manifest_name,
    parse_manifest_row,
)
from inference.hashing import file_sha256

MANIFEST_COLUMNS = (
    "source_path",
    "row_number",
    "order_type",
    "offer",
    "file_date",
    "order_id",
    "client_number",
    "client_number_raw",
    "ordered_on",
    "suspended_on",
    "status",
    "motif",
    "offer_label",
)
CALL_COLUMNS = (
    "call_id",
    "source_path",
    "row_number",
    "branch",
    "caller_number",
    "client_number",
    "client_number_raw",
    "start_time",
    "duration_s",
    "audio_path",
)
AUDIO_COLUMNS = (
    "audio_path",
    "audio_root",
    "sha256",
    "size_bytes",
    "etag",
    "duration_s",
    "sample_rate",
    "channels",
    "frames",
    "format",
    "subtype",
)


@dataclass
class LoadResult:
    source: str
    status: str  # loaded | replaced | unchanged | rejected
    rows: int = 0
    rejected: int = 0


@dataclass
class IngestSummary:
    manifests: list[LoadResult] = field(default_factory=list)
    calls: LoadResult | None = None
    audio: LoadResult | None = None

    @property
    def rows_inserted(self) -> int:
        results = [*self.manifests, self.calls, self.audio]
        return sum(r.rows for r in results if r is not None and r.status in ("loaded", "replaced"))

    @property
    def rejected(self) -> int:
        return sum(r.rejected for r in [*self.manifests, self.calls, self.audio] if r is not None)

    def as_dict(self) -> dict:
        return {
            "manifests": [asdict(r) for r in self.manifests],
            "calls": asdict(self.calls) if self.calls else None,
            "audio": asdict(self.audio) if self.audio else None,
            "rows_inserted": self.rows_inserted,
            "rejected": self.rejected,
        }


# ---------------------------------------------------------------------------------------------- helpers
def _recorded_sha(conn: psycopg.Connection, kind: str, source: str) -> str | None:
    row = conn.execute(
        "select sha256 from ops.source_files where source_kind = %s and source_path = %s", [kind, source]
    ).fetchone()
    return row[0] if row else None


def _record_source(
    conn: psycopg.Connection,
    kind: str,
    source: str,
    sha: str,
    size: int,
    rows: int,
    rejected: int,
    run_id: str,
) -> None:
    conn.execute(
        """insert into ops.source_files
             (source_kind, source_path, sha256, size_bytes, row_count, rejected_rows, run_id)
           values (%s, %s, %s, %s, %s, %s, %s)
           on conflict (source_kind, source_path) do update set
             sha256 = excluded.sha256, size_bytes = excluded.size_bytes, row_count = excluded.row_count,
             rejected_rows = excluded.rejected_rows, run_id = excluded.run_id, loaded_at = now()""",
        [kind, source, sha, size, rows, rejected, run_id],
    )


def select_manifests(
    folder: Path, settings: Settings, day: date | None, prefixes: list[str] | None
) -> tuple[list[tuple[Path, ManifestName]], list[tuple[Path, str]]]:
    """Manifests of ``day`` (all days if None) whose TYPE_OFFER starts with one of ``prefixes``."""
    contract = settings.contract()
    chosen, bad_names = [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))):
        try:
            name = parse_manifest_name(path.name, contract.types, contract.offers)
        except ContractError as exc:
            bad_names.append((path, str(exc)))
            continue
        if day is not None and name.day != day:
            continue
        if prefixes and not any(name.prefix.startswith(p.upper()) for p in prefixes):
            continue
        chosen.append((path, name))
    return chosen, bad_names


def _read_if_changed(conn: psycopg.Connection, kind: str, path: Path) -> tuple[bytes, str, str | None]:
    """The file's bytes, their sha256 and the sha256 recorded for it (equal: the file is unchanged)."""
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest(), _recorded_sha(conn, kind, path.name)


def _parse_rows(
    table: Table, source: str, mapping: dict[str, str], required: list[str], parse: Callable[[dict], Any]
) -> tuple[list[tuple[int, dict, Any]], list[Reject]]:
    """Map the headers, then parse each row: (row number, named cells, parsed) or a reject with the reason."""
    try:
        columns = map_headers(table.headers, mapping, required)
    except ContractError as exc:
        return [], [Reject(source, "header", str(exc), {"headers": table.headers})]
    parsed, rejects = [], []
    for number, cells in table.rows:
        named = {columns[i]: v for i, v in enumerate(cells) if i in columns}
        try:
            parsed.append((number, named, parse(named)))
        except ContractError as exc:
            rejects.append(Reject(source, f"row {number}", str(exc), named))
    return parsed, rejects


# ---------------------------------------------------------------------------------------------- tasks
@task(cache_policy=NONE, **IO_RETRIES)
def reject_file(url: str, kind: str, path: Path, reason: str) -> LoadResult:
    """A whole file that cannot be read as the contract says (name, type, headers)."""
    sha = file_sha256(path)
    with psycopg.connect(url) as conn:
        if _recorded_sha(conn, kind, path.name) == sha:
            return LoadResult(path.name, "unchanged")
        # the file's rows are replaced by its content: nothing readable, so no rows
        table = "raw.manifest_rows" if kind == "manifest" else "raw.calls"
        conn.execute(f"delete from {table} where source_path = %s", [path.name])
        replace_rejects(conn, kind, path.name, [Reject(path.name, "file", reason)], current_run_id())
        _record_source(conn, kind, path.name, sha, path.stat().st_size, 0, 1, current_run_id())
    return LoadResult(path.name, "rejected", rejected=1)


@task(cache_policy=NONE, **IO_RETRIES)
def load_manifest(url: str, path: Path, name: ManifestName, settings: Settings) -> LoadResult:
    contract = settings.contract()
    run_id = current_run_id()
    with psycopg.connect(url) as conn:
        data, sha, recorded = _read_if_changed(conn, "manifest", path)
        if recorded == sha:  # same bytes as last time: nothing to parse, nothing to write
            return LoadResult(path.name, "unchanged")
        try:
            table = read_table(path, data)
        except ContractError as exc:
            return reject_file.fn(url, "manifest", path, str(exc))
        parsed, rejects = _parse_rows(
            table,
            path.name,
            contract.headers[name.order_type],
            contract.required_columns,
            lambda named: parse_manifest_row(
                named, name, settings.default_country_code, settings.national_number_length
            ),
        )
        rows = [(path.name, number, *row.as_row()) for number, _, row in parsed]
        conn.execute("delete from raw.manifest_rows where source_path = %s", [path.name])
        copy_rows(conn, "raw.manifest_rows", MANIFEST_COLUMNS, rows)
        replace_rejects(conn, "manifest", path.name, rejects, run_id)
        _record_source(conn, "manifest", path.name, sha, len(data), len(rows), len(rejects), run_id)
    return LoadResult(path.name, "replaced" if recorded else "loaded", len(rows), len(rejects))


@task(cache_policy=NONE, **IO_RETRIES)
def load_calls(url: str, path: Path, settings: Settings) -> LoadResult:
    contract = settings.contract()
    run_id = current_run_id()
    with stage_lock(url, "ingest-calls"), psycopg.connect(url) as conn:  # one loader at a time
        data, sha, recorded = _read_if_changed(conn, "calls", path)
        if recorded == sha:  # same bytes as last time: nothing to parse, nothing to write
            return LoadResult(path.name, "unchanged")
        try:
            table = read_table(path, data)
        except ContractError as exc:
            return reject_file.fn(url, "calls", path, str(exc))
        parsed, rejects = _parse_rows(
            table,
            path.name,
            {c: c for c in contract.call_columns},
            [c for c in contract.call_columns if c != "audio_path"],
            lambda named: parse_call_row(
                named, settings.timezone, settings.default_country_code, settings.national_number_length
            ),
        )
        rows: dict[str, tuple] = {}
        for number, named, call in parsed:
            if call.call_id in rows:
                rejects.append(
                    Reject(path.name, f"row {number}", f"duplicate call_id {call.call_id!r}", named)
                )
                continue
            rows[call.call_id] = (
                call.call_id,
                path.name,
                number,
                call.branch,
                call.caller_number,
                call.client_number,
                call.client_number_raw,
                call.start_time,
                call.duration_s,
                call.audio_path,
            )
        conn.execute("delete from raw.calls where source_path = %s", [path.name])
        conn.execute(
            "create temporary table incoming_calls (like raw.calls including defaults) on commit drop"
        )
        copy_rows(conn, "incoming_calls", CALL_COLUMNS, list(rows.values()))
        inserted = {
            r[0]
            for r in conn.execute(
                "insert into raw.calls select * from incoming_calls"
                " on conflict (call_id) do nothing returning call_id"
            ).fetchall()
        }
        for call_id, row in rows.items():
            if call_id not in inserted:
                rejects.append(
                    Reject(
                        path.name,
                        f"row {row[2]}",
                        f"call_id {call_id!r} already loaded from another file",
                        dict(zip(CALL_COLUMNS, row, strict=True)),
                    )
                )
        replace_rejects(conn, "calls", path.name, rejects, run_id)
        _record_source(conn, "calls", path.name, sha, len(data), len(inserted), len(rejects), run_id)
    return LoadResult(path.name, "replaced" if recorded else "loaded", len(inserted), len(rejects))


def describe_audio(root: AudioRoot, info: ObjectInfo) -> tuple:
    """(row for raw.audio_files) of one recording: sha256 of its bytes and what soundfile reads."""
    local = root.local_path(info.path, info)
    sha = file_sha256(local)
    meta = soundfile.info(str(local))
    return (
        info.path,
        root.uri,
        sha,
        info.size_bytes,
        info.etag,
        float(meta.duration),
        int(meta.samplerate),
        int(meta.channels),
        int(meta.frames),
        meta.format,
        meta.subtype,
    )


@task(cache_policy=NONE, **IO_RETRIES)
def load_audio_metadata(url: str, audio_root: str, settings: Settings) -> LoadResult:
    """Describe every recording that ``raw.calls`` points to and that is new or changed under the root."""
    logger = get_run_logger()
    root = open_audio_root(audio_root, settings)
    run_id = current_run_id()
    with stage_lock(url, "ingest-audio"), psycopg.connect(url) as conn:
        wanted = [
            r[0]
            for r in conn.execute(
                "select distinct audio_path from raw.calls where audio_path is not null order by 1"
            ).fetchall()
        ]
        known = {
            path: (etag, known_root)
            for path, etag, known_root in conn.execute(
                "select audio_path, etag, audio_root from raw.audio_files"
            ).fetchall()
        }
    todo: list[ObjectInfo] = []
    rejects: list[Reject] = []
    missing: list[str] = []
    for relative in wanted:
        try:
            info = root.stat(relative)
        except ValueError as exc:
            rejects.append(Reject(relative, "file", str(exc)))
            continue
        if info is None:
            missing.append(relative)
            rejects.append(Reject(relative, "file", f"recording not found under audio root {root.uri}"))
        elif known.get(relative) != (info.etag, root.uri):
            todo.append(info)
    rows: list[tuple] = []

    def attempt(info: ObjectInfo) -> tuple | Reject:
        try:
            return describe_audio(root, info)
        except Exception as exc:  # soundfile/libsndfile and S3 errors alike: quarantine, keep going
            return Reject(info.path, "file", f"unreadable recording: {type(exc).__name__}: {exc}")

    with (
        ThreadPoolExecutor(max_workers=max(1, settings.audio_workers)) as pool,
        progress_bar("audio metadata", total=len(todo)) as advance,
    ):
        for result in pool.map(attempt, todo):
            (rejects.append if isinstance(result, Reject) else rows.append)(result)
            advance()
    with psycopg.connect(url) as conn:
        conn.execute(
            "create temporary table incoming_audio (like raw.audio_files including defaults) on commit drop"
        )
        copy_rows(conn, "incoming_audio", AUDIO_COLUMNS, rows)
        conn.execute(
            f"""insert into raw.audio_files select * from incoming_audio
                on conflict (audio_path) do update set
                {", ".join(f"{c} = excluded.{c}" for c in AUDIO_COLUMNS[1:])}, loaded_at = now()"""
        )
        checked = {info.path for info in todo} | set(missing)
        for source in checked:
            replace_rejects(conn, "audio", source, [r for r in rejects if r.source == source], run_id)
    if rejects:
        logger.warning("%d recording(s) quarantined in ops.rejects", len(rejects))
    return LoadResult(root.uri, "loaded" if rows else "unchanged", len(rows), len(rejects))


# ---------------------------------------------------------------------------------------------- flow
@secret_url_parameter
@flow(name="ingest", log_prints=True)
def ingest(
    manifests_dir: Path,
    calls_file: Path,
    audio_root: str,
    day: date | None = None,
    prefixes: list[str] | None = None,
    database_url: SecretStr | None = None,
) -> IngestSummary:
    """Load the day's manifests, the call records and the recordings' metadata into raw.*.

    ``database_url`` is a ``SecretStr`` (a plain string is converted) so that Prefect stores it obfuscated."""
    from flows.db import plain_url, ready_database

    settings = get_settings()
    url = plain_url(database_url) or ready_database(settings)
    summary = IngestSummary()
    chosen, bad_names = select_manifests(Path(manifests_dir), settings, day, prefixes)
    for path, reason in bad_names:
        summary.manifests.append(reject_file(url, "manifest", path, reason))
    for path, name in chosen:
        summary.manifests.append(load_manifest(url, path, name, settings))
    summary.calls = load_calls(url, Path(calls_file), settings)
    summary.audio = load_audio_metadata(url, audio_root, settings)
    get_run_logger().info(
        "ingest: %d manifest file(s), %d row(s) inserted, %d rejected",
        len(summary.manifests),
        summary.rows_inserted,
        summary.rejected,
    )
    return summary
