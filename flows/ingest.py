"""Ingest: manifests, call records and audio metadata into ``raw.*`` with COPY, idempotent by content.

A file whose sha256 is already recorded is skipped; a file whose content changed replaces its rows;
malformed rows, unknown headers and unreadable audio go to ``ops.rejects``. Manifests and call records are
landed as text and typed in SQL (flows/landing.py); this module keeps the bookkeeping around them.

One module (about 600 lines) for the three loaders (manifests, call records, audio metadata): they share
the file bookkeeping (content hash, replace-on-change, rejects with line numbers) that makes a re-run
free, and a loader is only correct together with it.
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
from flows.landing import TYPED_CALL_PAYLOAD, land, type_calls, type_manifest_rows
from flows.progress import progress_bar
from flows.runtime import IO_RETRIES, current_run_id, stage_lock
from flows.storage import AudioRoot, ObjectInfo, open_audio_root
from inference.audio_analysis import UnanalysableRecording, unanalysable_reason
from inference.contract import ContractError, ManifestName, map_headers, parse_manifest_name
from inference.hashing import file_sha256
from warehouse.db import copy_rows, secret_url_parameter
from warehouse.rejects import (
    WHOLE_FILE_LOCATIONS,
    Reject,
    insert_rejects,
    printable,
    replace_file_rejects,
    replace_rejects,
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
def typing_parameters(settings: Settings) -> dict[str, Any]:
    """The settings the contract's SQL functions read (flows/landing.py's typing statements)."""
    return {
        "country_code": settings.default_country_code,
        "national_length": settings.national_number_length,
        "time_zone": settings.timezone,
        "earliest": settings.earliest_date,
        "latest": settings.latest_date,
    }


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


def calls_source(path: Path) -> str:
    """The identity of a call records file: its resolved path, not its base name, so that another folder's
    ``calls.csv`` (the next day's export) is another source and never replaces this one's rows."""
    return str(Path(path).expanduser().resolve())


def adopt_legacy_calls_source(conn: psycopg.Connection, path: Path, source: str) -> bool:
    """Rows loaded when call records files were known by their base name alone become this file's: the
    one-time step that keeps an existing warehouse's calls (and their rejects) when it first sees sources
    by path, instead of rejecting every call as already loaded from another file."""
    legacy = Path(path).name
    recorded = conn.execute(
        "select 1 from ops.source_files where source_kind = 'calls' and source_path = %s", [legacy]
    ).fetchone()
    if legacy == source or recorded is None:
        return False
    conn.execute("delete from ops.source_files where source_kind = 'calls' and source_path = %s", [source])
    conn.execute("delete from ops.rejects where source_kind = 'calls' and source = %s", [source])
    conn.execute("update raw.calls set source_path = %s where source_path = %s", [source, legacy])
    conn.execute(
        "update ops.source_files set source_path = %s where source_kind = 'calls' and source_path = %s",
        [source, legacy],
    )
    conn.execute(
        "update ops.rejects set source = %s where source_kind = 'calls' and source = %s", [source, legacy]
    )
    return True


def _read_if_changed(
    conn: psycopg.Connection, kind: str, path: Path, source: str
) -> tuple[bytes, str, str | None]:
    """The file's bytes, their sha256 and the sha256 recorded for it (equal: the file is unchanged)."""
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest(), _recorded_sha(conn, kind, source)


def _unchanged(conn: psycopg.Connection, kind: str, source: str) -> LoadResult:
    """The loaded version is the file's current one: a whole-file reject of a bad version seen since (a later
    run than the one that loaded it) is stale, for the file was put back; the rows and their row rejects
    stay as they are."""
    conn.execute(
        """delete from ops.rejects r
           where r.source_kind = %s and r.source = %s and r.location = any(%s)
             and r.run_id is distinct from (select f.run_id from ops.source_files f
                                            where f.source_kind = %s and f.source_path = %s)""",
        [kind, source, list(WHOLE_FILE_LOCATIONS), kind, source],
    )
    return LoadResult(source, "unchanged")


def _reject_whole(
    conn: psycopg.Connection, kind: str, source: str, reject: Reject, row_rejects: list[Reject]
) -> LoadResult:
    """A file that fails as a whole is rejected whole; the rows loaded from an earlier version of the same
    source stay, with their row rejects, and its record in ops.source_files (which the GX row counts read)
    stays that version's. Nothing is recorded for the bad version: a later run reads it again."""
    table = "raw.manifest_rows" if kind == "manifest" else "raw.calls"
    loaded = conn.execute(f"select count(*) from {table} where source_path = %s", [source]).fetchone()[0]
    if loaded:
        kept = Reject(
            reject.source,
            reject.location,
            f"{reject.reason}; the {loaded} row(s) loaded from an earlier version of this file are kept",
            reject.payload,
        )
        replace_file_rejects(conn, kind, source, [kept], current_run_id())
    else:
        stored = [reject, *row_rejects]
        replace_rejects(conn, kind, source, stored, current_run_id())
        return LoadResult(source, "rejected", rejected=len(stored))
    return LoadResult(source, "rejected", rejected=1)


def _land_and_type(
    conn: psycopg.Connection,
    path: Path,
    data: bytes,
    source: str,
    mapping: dict[str, str],
    required: list[str],
    type_rows: Callable[[psycopg.Connection, dict[int, str]], None],
) -> tuple[Reject | None, list[Reject]]:
    """Land the file, map its headers and type its rows into ``typed`` (flows/landing.py). Returns the
    reject of the file as a whole (unreadable, its headers, no data row, no valid data row) or None, and
    with a whole-file reject the rejects of its rows."""
    try:
        landed = land(conn, path, data)
    except ContractError as exc:
        return Reject(source, "file", str(exc)), []
    try:
        columns = map_headers(landed.headers, mapping, required)
    except ContractError as exc:
        return Reject(source, "header", str(exc), {"headers": landed.headers}), []
    type_rows(conn, columns)
    total, valid = conn.execute(
        "select count(*), count(*) filter (where reason is null) from typed"
    ).fetchone()
    if valid:
        return None, []
    name = Path(source).name
    if not total:
        return Reject(source, "file", f"{name} has a header but no data rows"), []
    rows = _typed_rejects(conn, source)
    first = rows[0]
    return Reject(
        source,
        "file",
        f"none of the {total} data row(s) of {name} is valid (first: {first.location}: {first.reason})",
    ), rows


def _typed_rejects(conn: psycopg.Connection, source: str) -> list[Reject]:
    """The rows of ``typed`` that break the contract, as rejects."""
    rows = conn.execute(
        "select row_number, reason, payload from typed where reason is not null order by row_number"
    ).fetchall()
    return [Reject(source, f"row {number}", reason, payload) for number, reason, payload in rows]


def _store_typed_rejects(conn: psycopg.Connection, kind: str, source: str, run_id: str | None) -> int:
    """Replace the source's rejects with the rows of ``typed`` that break the contract (in SQL: a million
    rows never pass through Python). Returns how many there are."""
    conn.execute("delete from ops.rejects where source_kind = %s and source = %s", [kind, printable(source)])
    return conn.execute(
        """insert into ops.rejects (source_kind, source, location, reason, payload, run_id)
           select %s, %s, 'row ' || row_number, reason, payload, %s
           from typed where reason is not null order by row_number""",
        [kind, printable(source), run_id],
    ).rowcount


# ---------------------------------------------------------------------------------------------- tasks
@task(cache_policy=NONE, **IO_RETRIES)
def reject_file(url: str, kind: str, path: Path, reason: str) -> LoadResult:
    """A whole file that cannot be read as the contract says (name, type, encoding): rejected whole."""
    source = calls_source(path) if kind == "calls" else path.name
    with psycopg.connect(url) as conn:
        return _reject_whole(conn, kind, source, Reject(source, "file", reason), [])


@task(cache_policy=NONE, **IO_RETRIES)
def load_manifest(url: str, path: Path, name: ManifestName, settings: Settings) -> LoadResult:
    contract = settings.contract()
    run_id = current_run_id()
    source = path.name  # the contract's name (type, offer, day) is the manifest's identity
    params = {
        **typing_parameters(settings),
        "order_type": name.order_type,
        "offer": name.offer,
        "file_date": name.day,
        "offers": contract.offers,
    }
    with psycopg.connect(url) as conn:
        data, sha, recorded = _read_if_changed(conn, "manifest", path, source)
        if recorded == sha:  # same bytes as last time: nothing to parse, nothing to write
            return _unchanged(conn, "manifest", source)
        whole, rejects = _land_and_type(
            conn,
            path,
            data,
            source,
            contract.headers[name.order_type],
            contract.required_columns,
            lambda c, columns: type_manifest_rows(c, columns, params),
        )
        if whole is not None:
            return _reject_whole(conn, "manifest", source, whole, rejects)
        conn.execute("delete from raw.manifest_rows where source_path = %s", [source])
        rows = conn.execute(
            """insert into raw.manifest_rows
                 (source_path, row_number, order_type, offer, file_date, order_id, client_number,
                  client_number_raw, ordered_on, suspended_on, status, motif, offer_label)
               select %s, row_number, order_type, offer, file_date, order_id, client_number,
                      client_number_raw, ordered_on, suspended_on, status, motif, offer_label
               from typed where reason is null""",
            [source],
        ).rowcount
        rejected = _store_typed_rejects(conn, "manifest", source, run_id)
        _record_source(conn, "manifest", source, sha, len(data), rows, rejected, run_id)
    return LoadResult(source, "replaced" if recorded else "loaded", rows, rejected)


@task(cache_policy=NONE, **IO_RETRIES)
def load_calls(url: str, path: Path, settings: Settings) -> LoadResult:
    contract = settings.contract()
    run_id = current_run_id()
    source = calls_source(path)
    params = typing_parameters(settings)
    with stage_lock(url, "ingest-calls"), psycopg.connect(url) as conn:  # one loader at a time
        adopt_legacy_calls_source(conn, path, source)
        data, sha, recorded = _read_if_changed(conn, "calls", path, source)
        if recorded == sha:  # same bytes as last time: nothing to parse, nothing to write
            return _unchanged(conn, "calls", source)
        whole, rejects = _land_and_type(
            conn,
            path,
            data,
            source,
            {c: c for c in contract.call_columns},
            [c for c in contract.call_columns if c != "audio_path"],
            lambda c, columns: type_calls(c, columns, params),
        )
        if whole is not None:
            return _reject_whole(conn, "calls", source, whole, rejects)
        conn.execute("delete from raw.calls where source_path = %s", [source])
        conn.execute(  # a call_id twice in the file: the first row counts
            f"""update typed t
                set reason = 'duplicate call_id ' || contract.quoted(t.call_id),
                    payload = {TYPED_CALL_PAYLOAD}
                from (select row_number, row_number() over (partition by call_id order by row_number) as nth
                      from typed where reason is null) d
                where d.row_number = t.row_number and d.nth > 1"""
        )
        conn.execute(  # this file's rows are deleted above: any call_id left is another file's
            f"""update typed t
                set reason = 'call_id ' || contract.quoted(t.call_id) || ' already loaded from another file',
                    payload = {TYPED_CALL_PAYLOAD}
                from raw.calls c where c.call_id = t.call_id and t.reason is null"""
        )
        inserted = conn.execute(
            """insert into raw.calls
                 (call_id, source_path, row_number, branch, caller_number, client_number, client_number_raw,
                  start_time, duration_s, audio_path)
               select call_id, %s, row_number, branch, caller_number, client_number, client_number_raw,
                      start_time, duration_s, audio_path
               from typed where reason is null""",
            [source],
        ).rowcount
        rejected = _store_typed_rejects(conn, "calls", source, run_id)
        _record_source(conn, "calls", source, sha, len(data), inserted, rejected, run_id)
    return LoadResult(source, "replaced" if recorded else "loaded", inserted, rejected)


UNANALYSABLE = {"unanalysable": True}  # payload of an audio reject whose calls go to review (rule 4)


def describe_audio(root: AudioRoot, info: ObjectInfo, max_seconds: float | None = None) -> tuple:
    """(row for raw.audio_files) of one recording: sha256 of its bytes and what soundfile reads.

    Raises UnanalysableRecording for a recording that decodes but holds nothing to analyse, or that is
    longer than ``max_seconds``."""
    local = root.local_path(info.path, info)
    sha = file_sha256(local)
    meta = soundfile.info(str(local))
    reason = unanalysable_reason(int(meta.frames), int(meta.samplerate), int(meta.channels), max_seconds)
    if reason is not None:
        raise UnanalysableRecording(reason)
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


def _describe_or_reject(root: AudioRoot, info: ObjectInfo, max_seconds: float) -> tuple | Reject:
    try:
        return describe_audio(root, info, max_seconds)
    except UnanalysableRecording as exc:
        return Reject(info.path, "file", f"unanalysable recording: {exc}", UNANALYSABLE)
    except Exception as exc:  # soundfile/libsndfile and S3 errors alike: quarantine, keep going
        return Reject(info.path, "file", f"unreadable recording: {type(exc).__name__}: {exc}", UNANALYSABLE)


@task(cache_policy=NONE, **IO_RETRIES)
def load_audio_metadata(url: str, audio_root: str, settings: Settings) -> LoadResult:
    """Describe every recording that ``raw.calls`` points to and that is new or changed under the root.

    Recording rows follow their call rows: a recording no call points to any more, or one now rejected,
    leaves raw.audio_files (its inference results, keyed by content, stay)."""
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
        known = {  # a recording longer than the limit (lowered since) is described, and rejected, again
            path: (etag, known_root)
            for path, etag, known_root in conn.execute(
                "select audio_path, etag, audio_root from raw.audio_files where duration_s <= %s",
                [settings.max_recording_s],
            ).fetchall()
        }
    todo: list[ObjectInfo] = []
    rejects: list[Reject] = []
    refused: list[str] = []  # never read: missing, or outside the audio root
    for relative in wanted:
        try:
            info = root.stat(relative)
        except ValueError as exc:  # outside the root ('../x', a symlink leading out): never read
            refused.append(relative)
            rejects.append(Reject(relative, "file", str(exc), UNANALYSABLE))
            continue
        if info is None:
            refused.append(relative)
            rejects.append(Reject(relative, "file", f"recording not found under audio root {root.uri}"))
        elif known.get(relative) != (info.etag, root.uri):
            todo.append(info)
    rows: list[tuple] = []
    with (
        ThreadPoolExecutor(max_workers=max(1, settings.audio_workers)) as pool,
        progress_bar("audio metadata", total=len(todo)) as advance,
    ):
        for result in pool.map(lambda info: _describe_or_reject(root, info, settings.max_recording_s), todo):
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
        checked = {info.path for info in todo} | set(refused)
        for source in checked:
            replace_rejects(conn, "audio", source, [r for r in rejects if r.source == source], run_id)
            # described again: the analysis of its new content decides afresh
            replace_rejects(conn, "audio_analysis", source, [], run_id)
        stale = _drop_stale_recordings(conn, [r.source for r in rejects])
        unmatched = _report_recordings_without_call(conn, root, wanted, run_id)
    if rejects:
        logger.warning("%d recording(s) quarantined in ops.rejects", len(rejects))
    if unmatched:
        logger.warning(
            "%d recording(s) under %s have no call row (ops.rejects, source_kind %r)",
            unmatched,
            root.uri,
            WITHOUT_CALL,
        )
    if stale:
        logger.info("%d recording row(s) no call points to any more left raw.audio_files", stale)
    return LoadResult(root.uri, "loaded" if rows else "unchanged", len(rows), len(rejects))


WITHOUT_CALL = "recording_without_call"  # ops.rejects kind: a recording under the root no call row names


def _report_recordings_without_call(
    conn: psycopg.Connection, root: AudioRoot, wanted: list[str], run_id: str | None
) -> int:
    """Report every recording under the audio root that no call row points to (a call missing from the
    call records, or a file left over): one ops.rejects row each, replaced at every run of this root.
    Nothing is read or loaded from them. Returns how many there are."""
    named = set(wanted)
    found = sorted(path for path in root.listing() if path not in named)
    conn.execute(
        "delete from ops.rejects where source_kind = %s and payload ->> 'audio_root' = %s",
        [WITHOUT_CALL, root.uri],
    )
    rejects = [
        Reject(
            path,
            "file",
            "no call row points to this recording: it is not audited (is its call missing from the call "
            "records?)",
            {"audio_root": root.uri},
        )
        for path in found
    ]
    insert_rejects(conn, WITHOUT_CALL, rejects, run_id)
    return len(found)


def _drop_stale_recordings(conn: psycopg.Connection, rejected: list[str]) -> int:
    """Delete the recording rows (and the rejects) that no call row points to any more, and the rows of
    recordings rejected in this run (a file now missing or unreadable). Returns the rows deleted."""
    deleted = conn.execute(
        """delete from raw.audio_files f
           where f.audio_path = any(%s)
              or not exists (select 1 from raw.calls c where c.audio_path = f.audio_path)""",
        [rejected],
    ).rowcount
    conn.execute(
        """delete from ops.rejects r
           where r.source_kind in ('audio', 'audio_analysis')
             and not exists (select 1 from raw.calls c where c.audio_path = r.source)"""
    )
    return deleted


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
    from warehouse.db import plain_url, ready_database

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
