"""ELT at scale: load, dbt, GX and the analysts' queries on N calls / N×0.3 orders, timed in one run.

Makes metadata-only inputs in the input contract (DESIGN.md): one manifest per type × offer × day (ACQUISITION
ADSL in cp1252 with ';', the others UTF-8 with ','), one ``calls.csv`` for the first ``--days`` days and a
second one (another folder, another source) for one new day. No audio: the inference tables (raw.audio_files,
audio_analysis, audio_tones, transcripts, redacted_transcripts, classifications, transcript_embeddings) are
filled with plausible rows by COPY — outcomes, ring-back timelines, call types, embeddings clustered by topic.
Everything goes into a database of its own on the embedded PostgreSQL (dropped at the end unless ``--keep``).

Timed, in one run, each with the peak RSS of this process and its children (dbt and GX run in-process):

* the loaders (``load_manifest``, ``load_calls``) against a plain ``COPY … (format csv)`` of the same files
  into an all-text table, measured in the same run (the floor);
* the full ``dbt build`` (seeds, models, tests, unit tests), with the pipeline's vars and pseudonyms refresh,
  through plain ``dbtRunner`` (the flow's Prefect runner adds one task per node on top);
* one new day: its files loaded, its inference rows added, and ``dbt build`` again (the incremental re-run);
* the Great Expectations checkpoint (every suite, Data Docs included);
* the README's example analyst queries, each on its own.

A statement running longer than ``--statement-timeout`` seconds is cancelled (the node fails, dbt skips what
depends on it, and the table says so): a quadratic model must not hang the benchmark. Prints a table and
writes JSON (benchmarks/results/scale.json).

    nice -n 10 .venv/bin/python benchmarks/scale.py [--calls 100000] [--days 7] [--out FILE] [--keep]

One script (about 680 lines), a development tool: the scale data, the timings and the table of one run
live together so the figures of a run come from one process and one warehouse.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The marts' pseudonyms need a key: a fixed one for the benchmark, never the deployment's vault.
os.environ.setdefault("CALLAUDIT_PSEUDONYM_KEY", base64.b64encode(bytes(range(32))).decode())

import flows  # noqa: E402,F401  (offline environment)

FIRST_DAY = date(2026, 11, 1)
TIMEZONE = "Africa/Casablanca"
TYPES = ("ACQUISITION", "SAV")
OFFERS = ("ADSL", "VULA")
BRANCHES = {
    ("SAV", "ADSL"): "ADSL_SAV",
    ("SAV", "VULA"): "FTTH_VULA_SAV",
    ("ACQUISITION", "ADSL"): "ADSL_INSTALL",
    ("ACQUISITION", "VULA"): "FTTH_VULA_INSTALL",
}
MOTIFS = ("Client injoignable", "client refuse installation", "Client reporte RDV", "Client absent")
HEADERS = {
    "ACQUISITION": "N° Commande;Numéro Client;Date Commande;Date Suspension;Statut;Motif Suspension;Offre",
    "SAV": "Num Ticket,MSISDN,Date Création,Date Suspension,Etat,Motif,Offre",
}
TECHNICIANS = 2000
DETECTOR, ASR_MODEL, CHUNKING, REDACTOR = "bench-detector-1", "bench-asr-1", "bench-chunk-1", "bench-redact-1"
CLASSIFIER, PROMPT, EMBEDDER = "bench-classifier", "bench-prompt-1", "bench-minilm@0"
TOPICS = 60  # embedding clusters: scripted conversations make transcripts close
SENTENCES = (
    "bonjour monsieur je suis le technicien pour votre installation",
    "je vous appelle au sujet de votre rendez-vous de demain matin",
    "le client souhaite reporter le rendez-vous a la semaine prochaine",
    "je ne souhaite plus l'installation merci de l'annuler",
    "je ne suis pas a la maison aujourd'hui rappelez plus tard",
    "tres bien je passe dans l'apres-midi entre quatorze et seize heures",
    "vous etes sur la messagerie de [PERSON_1] laissez un message",
)


# ---------------------------------------------------------------------------------------------- measuring
@dataclass
class Stage:
    name: str
    rows: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    floor_seconds: float | None = None  # plain COPY of the same files (loads only)
    throughput: bool = False  # rows/s means something (loads, fills), not for builds and queries
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {
            "stage": self.name,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows / self.seconds) if self.throughput and self.seconds else None,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }
        if self.floor_seconds is not None:
            out["copy_floor_s"] = round(self.floor_seconds, 3)
            out["copy_rows_per_s"] = round(self.rows / self.floor_seconds)
            out["vs_copy"] = round(self.seconds / self.floor_seconds, 2)
        return out | self.detail


def _tree_rss() -> int:
    """Resident bytes of this process and its children (dbt, GX and the loaders run in this process)."""
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        with suppress(psutil.Error):
            total += child.memory_info().rss
    return total


@contextmanager
def measured(stage: Stage) -> Iterator[Stage]:
    """Time the block and sample the process tree's RSS every 0.1 s; the peak goes into ``stage``."""
    peak = [_tree_rss()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], _tree_rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield stage
    finally:
        stage.seconds += time.perf_counter() - started
        done.set()
        sampler.join()
        stage.peak_rss_mb = max(stage.peak_rss_mb, max(peak[0], _tree_rss()) / 2**20)


# ---------------------------------------------------------------------------------------------- inputs
@dataclass
class Order:
    order_type: str
    offer: str
    order_id: str
    client: str  # E.164 digits
    ordered_on: date
    suspended_on: date
    audited: bool


@dataclass
class Day:
    day: date
    manifests: list[Path]
    calls_file: Path
    calls: list[tuple[str, str, datetime]]  # (call_id, audio_path, start) of the calls of calls_file
    orders: int = 0


def _national(e164: str, rng: random.Random) -> str:
    """A client number as exports write it: national, spaced, +E.164 or 00-prefixed."""
    r = rng.random()
    if r < 0.6:
        return "0" + e164[3:]
    if r < 0.75:
        national = "0" + e164[3:]
        return " ".join([national[:2]] + [national[i : i + 2] for i in range(2, len(national), 2)])
    if r < 0.9:
        return "+" + e164
    return "00" + e164


def make_orders(day: date, count: int, rng: random.Random, serial: int) -> list[Order]:
    orders = []
    for i in range(count):
        order_type, offer = rng.choice(TYPES), rng.choice(OFFERS)
        prefix = "CMD" if order_type == "ACQUISITION" else "TK"
        orders.append(
            Order(
                order_type,
                offer,
                f"{prefix}-{serial + i:09d}",
                f"2126{rng.randrange(10**8):08d}",
                day - timedelta(days=rng.randrange(0, 3)),
                day,
                rng.random() < 0.9,
            )
        )
    return orders


def write_manifests(folder: Path, day: date, orders: list[Order], rng: random.Random) -> list[Path]:
    """One file per type × offer of ``day``, in the contract's headers, encodings and separators."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for order_type in TYPES:
        for offer in OFFERS:
            cp1252 = order_type == "ACQUISITION" and offer == "ADSL"
            sep = ";" if cp1252 else ","
            header = HEADERS[order_type].replace(";", sep)
            path = folder / f"{order_type}_{offer}_{day:%Y%m%d}.csv"
            with open(path, "w", encoding="cp1252" if cp1252 else "utf-8", newline="") as fh:
                fh.write(header + "\n")
                for o in orders:
                    if (o.order_type, o.offer) != (order_type, offer):
                        continue
                    status = "Suspendu" if o.audited else "En cours"
                    fh.write(
                        sep.join(
                            (
                                o.order_id,
                                _national(o.client, rng),
                                f"{o.ordered_on:%d/%m/%Y}",
                                f"{o.suspended_on:%d/%m/%Y}",
                                status,
                                rng.choice(MOTIFS),
                                offer,
                            )
                        )
                        + "\n"
                    )
            paths.append(path)
    return paths


def write_calls(path: Path, orders: list[Order], count: int, rng: random.Random, tag: str) -> list[tuple]:
    """``count`` calls to the orders' clients inside their windows (mostly from the expected branch, mostly
    two hours or more apart), start_time ISO 8601 with an offset. Returns (call_id, audio_path, start)."""
    tz = ZoneInfo(TIMEZONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    calls = []
    per_order: dict[int, datetime] = {}
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("call_id,branch,caller_number,client_number,start_time,duration_s,audio_path\n")
        for i in range(count):
            k = rng.randrange(len(orders))
            o = orders[k]
            branch = BRANCHES[(o.order_type, o.offer)]
            if rng.random() < 0.03:
                branch = rng.choice(list(BRANCHES.values()))
            previous = per_order.get(k)
            if previous is None:
                start = datetime.combine(o.ordered_on, datetime.min.time(), tz) + timedelta(
                    hours=8, minutes=rng.randrange(0, 240)
                )
            else:
                start = previous + timedelta(minutes=rng.choice((90, 119, 120, 125, 150, 180, 240)))
            per_order[k] = start
            call_id = f"{tag}{i:08d}"
            audio = f"{branch}/{start:%Y%m%d}/{call_id}.wav"
            stamp = start.astimezone(UTC) if rng.random() < 0.3 else start
            fh.write(
                f"{call_id},{branch},2125220{rng.randrange(TECHNICIANS):05d},{_national(o.client, rng)},"
                f"{stamp.isoformat(timespec='seconds')},{rng.uniform(5, 300):.2f},{audio}\n"
            )
            calls.append((call_id, audio, start))
    return calls


def make_inputs(work: Path, calls: int, days: int, rng: random.Random) -> tuple[list[Day], Day]:
    """The base days (one calls.csv for all of them) and one new day (its own calls.csv)."""
    per_day_calls = math.ceil(calls / days)
    per_day_orders = max(1, round(per_day_calls * 0.3))
    base_orders: list[Order] = []
    base: list[Day] = []
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        orders = make_orders(day, per_day_orders, rng, serial=d * per_day_orders)
        manifests = write_manifests(work / "manifests", day, orders, rng)
        base.append(Day(day, manifests, work / "calls" / "calls.csv", [], len(orders)))
        base_orders += orders
    base[0].calls = write_calls(work / "calls" / "calls.csv", base_orders, calls, rng, "C")
    new_day = FIRST_DAY + timedelta(days=days)
    orders = make_orders(new_day, per_day_orders, rng, serial=days * per_day_orders)
    manifests = write_manifests(work / "new-day" / "manifests", new_day, orders, rng)
    new_calls = write_calls(work / "new-day" / "calls.csv", orders, per_day_calls, rng, "N")
    return base, Day(new_day, manifests, work / "new-day" / "calls.csv", new_calls, len(orders))


# ---------------------------------------------------------------------------------------------- inference
def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _vector(topic_centres: list[list[float]], rng: random.Random) -> str:
    centre = topic_centres[rng.randrange(len(topic_centres))]
    v = [c + rng.gauss(0, 0.35) for c in centre]
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return "[" + ",".join(f"{x / norm:.4f}" for x in v) + "]"


def write_inference(
    folder: Path, calls: list[tuple[str, str, datetime]], rng: random.Random
) -> dict[str, Path]:
    """CSV files, one per inference table, for ``calls``: what the audio, ASR, redaction, classification and
    embedding stages would have written. About 0.5% of calls reuse another call's recording (same sha256)."""
    folder.mkdir(parents=True, exist_ok=True)
    centres_rng = random.Random(7)
    centres = [[centres_rng.gauss(0, 1) for _ in range(384)] for _ in range(TOPICS)]
    names = ("audio_files", "audio_analysis", "audio_tones", "transcripts", "redacted_transcripts")
    names += ("classifications", "transcript_embeddings")
    files = {n: open(folder / f"{n}.csv", "w", encoding="utf-8", newline="") for n in names}  # noqa: SIM115
    seen: list[str] = []  # the recordings written so far
    try:
        for call_id, audio_path, _start in calls:
            reused = bool(seen) and rng.random() < 0.005
            sha = seen[rng.randrange(len(seen))] if reused else _sha(f"audio:{call_id}")
            duration = rng.uniform(8, 240)
            files["audio_files"].write(
                f"{audio_path},file:///bench-audio,{sha},{int(duration * 16000) + 44},etag-{sha[:16]},"
                f"{duration:.3f},8000,1,{int(duration * 8000)},WAV,PCM_16\n"
            )
            if reused:
                continue  # the recording's analysis and text are already written
            seen.append(sha)
            r = rng.random()
            outcome = (
                "answered"
                if r < 0.45
                else "voicemail"
                if r < 0.7
                else "no_answer"
                if r < 0.95
                else "unreachable"
            )
            rings = 0 if outcome == "unreachable" else rng.randrange(1, 7)
            t, tones = rng.uniform(0.5, 2.0), []
            for _ in range(rings):
                on = rng.uniform(1.0, 1.7)
                tones.append(("ring", t, t + on, rng.uniform(415, 435)))
                t += on + rng.uniform(3.0, 4.0)
            if outcome == "voicemail":
                t += rng.uniform(4, 9)  # the greeting
                tones.append(("voicemail_beep", t, t + rng.uniform(0.3, 1.0), rng.uniform(590, 650)))
                t = tones[-1][2]
            if outcome == "unreachable":
                for hz in (913.8, 1370.6, 1776.7):
                    tones.append(("sit", t, t + 0.33, hz))
                    t += 0.4
            speech = outcome in ("answered", "voicemail")
            onset = f"{t + rng.uniform(0.1, 0.6):.4f}" if speech else ""
            speech_s = rng.uniform(5, duration * 0.8) if speech else 0.0
            files["audio_analysis"].write(
                f"{sha},{DETECTOR},{outcome},{rng.uniform(0.6, 1.0):.3f},{rings},"
                f"{int(outcome == 'voicemail')},{3 if outcome == 'unreachable' else 0},{onset},"
                f"{speech_s:.3f},,\n"
            )
            for kind, start, end, hz in tones:
                files["audio_tones"].write(f"{sha},{DETECTOR},{kind},{start:.4f},{end:.4f},{hz:.2f}\n")
            if not speech:
                continue
            text = " ".join(rng.choice(SENTENCES) for _ in range(rng.randrange(2, 6)))
            files["transcripts"].write(
                f"{sha},{ASR_MODEL},{CHUNKING},mix,{call_id},{text},{rng.uniform(0.5, 0.99):.3f},"
                f"{rng.randrange(1, 8)}\n"
            )
            files["redacted_transcripts"].write(
                f"{sha},{ASR_MODEL},{CHUNKING},mix,{REDACTOR},{call_id},{text},1,{{PERSON}}\n"
            )
            files["transcript_embeddings"].write(
                f'{sha},{EMBEDDER},{_sha(text)},{call_id},384,"{_vector(centres, rng)}"\n'
            )
            if outcome == "answered":
                call_type = rng.choice((1, 2, 3, 4, 4, 0))
                files["classifications"].write(
                    f"{sha},{CLASSIFIER},{PROMPT},{_sha(sha + PROMPT)},{call_id},{call_type},"
                    f"{int(rng.random() < 0.9)},{rng.choice(('negative', 'neutral', 'positive'))},"
                    f"le client a ete joint au sujet de son rendez-vous,,{str(rng.random() < 0.95).lower()},"
                    f"{rng.uniform(0.5, 1.0):.3f}\n"
                )
    finally:
        for fh in files.values():
            fh.close()
    return {n: folder / f"{n}.csv" for n in names}


COLUMNS = {
    "audio_files": "audio_path, audio_root, sha256, size_bytes, etag, duration_s, sample_rate, channels,"
    " frames, format, subtype",
    "audio_analysis": "sha256, detector_version, outcome, outcome_confidence, ring_bursts, voicemail_beeps,"
    " sit_tones, speech_onset_s, speech_s, agent_speech_s, customer_speech_s",
    "audio_tones": "sha256, detector_version, kind, start_s, end_s, frequency_hz",
    "transcripts": "sha256, model_id, chunking_id, channel, call_id, text, confidence, segments",
    "redacted_transcripts": "sha256, asr_model_id, chunking_id, channel, redactor_version, call_id, text,"
    " entities, entity_types",
    "classifications": "sha256, model, prompt_version, request_key, call_id, call_type, behavior, sentiment,"
    " summary, action_items, is_trusted, call_type_confidence",
    "transcript_embeddings": "sha256, model, text_hash, call_id, dimension, embedding",
}


def copy_inference(url: str, files: dict[str, Path]) -> int:
    """COPY the inference CSVs into raw.*; the HNSW index is rebuilt once after the embeddings, as a bulk
    backfill would (inserting into it row by row costs far more). Returns the rows copied."""
    import psycopg

    total = 0
    with psycopg.connect(url) as conn:
        index = conn.execute(
            "select indexdef from pg_indexes"
            " where schemaname = 'raw' and indexname = 'transcript_embeddings_hnsw'"
        ).fetchone()
        conn.execute("drop index if exists raw.transcript_embeddings_hnsw")
        for name, path in files.items():
            with (
                conn.cursor() as cur,
                cur.copy(f"copy raw.{name} ({COLUMNS[name]}) from stdin (format csv)") as cp,
                open(path, "rb") as fh,
            ):
                while block := fh.read(1 << 20):
                    cp.write(block)
            with open(path, "rb") as fh:
                total += sum(1 for _ in fh)
        if index:
            # the whole graph in memory (about 3 KB per 384-dimension vector): beyond it pgvector goes on
            # inserting row by row, which had not finished after 30 minutes for the
            # ~680,000 vectors of 1,000,000 calls with 512 MB
            (vectors,) = conn.execute("select count(*) from raw.transcript_embeddings").fetchone()
            conn.execute(f"set maintenance_work_mem = '{max(512, vectors * 3 // 1000)}MB'")
            conn.execute(index[0])
        conn.execute("analyze")
    return total


# ---------------------------------------------------------------------------------------------- stages
def plain_copy_floor(url: str, paths: list[Path]) -> float:
    """Seconds for a bare COPY of ``paths`` into an all-text table (rolled back): the loaders' floor."""
    from benchmarks.load_throughput import plain_copy

    def dialect(path: Path) -> tuple[str, str]:
        return (";", "WIN1252") if path.name.startswith("ACQUISITION_ADSL") else (",", "UTF8")

    return sum(plain_copy(url, path, 7, *dialect(path)) for path in paths)


def load_day(url: str, settings, manifests: list[Path], calls_file: Path, label: str) -> tuple[Stage, Stage]:
    """Each manifest and the calls file through callaudit's loaders, and their plain-COPY floor."""
    from flows.ingest import load_calls, load_manifest
    from inference.contract import parse_manifest_name

    contract = settings.contract()
    manifest_stage = Stage(f"load manifests{label}", throughput=True)
    calls_stage = Stage(f"load calls.csv{label}", throughput=True)
    manifest_stage.floor_seconds = plain_copy_floor(url, manifests)
    calls_stage.floor_seconds = plain_copy_floor(url, [calls_file])
    with measured(manifest_stage):
        for path in manifests:
            name = parse_manifest_name(path.name, contract.types, contract.offers)
            result = load_manifest.fn(url, path, name, settings)
            manifest_stage.rows += result.rows
            manifest_stage.detail["rejected"] = manifest_stage.detail.get("rejected", 0) + result.rejected
    with measured(calls_stage):
        result = load_calls.fn(url, calls_file, settings)
        calls_stage.rows = result.rows
        calls_stage.detail["rejected"] = result.rejected
    return manifest_stage, calls_stage


def dbt_build(url: str, settings, target: Path, statement_timeout_s: int, label: str) -> Stage:
    """``dbt build`` as the pipeline runs it (its vars, its pseudonyms and statistics refresh) through plain
    dbtRunner."""
    from dbt.cli.main import dbtRunner

    from flows.transform import DBT_PROJECT_DIR, before_build, dbt_environment, dbt_vars

    stage = Stage(f"dbt build{label}")
    saved = os.environ.get("PGOPTIONS")
    os.environ["PGOPTIONS"] = f"-c statement_timeout={statement_timeout_s * 1000}"
    try:
        with measured(stage), dbt_environment(url):
            before_build(url, settings)
            result = dbtRunner().invoke(
                [
                    "build",
                    "--exclude-resource-type",
                    "unit_test",
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROJECT_DIR),
                    "--target-path",
                    str(target),
                    "--vars",
                    dbt_vars(settings),
                    "--quiet",
                ]
            )
    finally:
        if saved is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = saved
    nodes = list(result.result or [])
    slowest = sorted(nodes, key=lambda r: -(r.execution_time or 0))[:6]
    stage.rows = len(nodes)
    stage.detail = {
        "success": bool(result.success),
        "nodes": len(nodes),
        "failed": [
            f"{r.node.name}: {str(r.message)[:160]}"
            for r in nodes
            if str(r.status).lower() in ("error", "fail", "runtime error", "skipped")
        ],
        "slowest_nodes": [[r.node.name, round(r.execution_time or 0, 2)] for r in slowest],
    }
    return stage


def gx_checkpoint(url: str, settings, gx_dir: Path) -> Stage:
    from expectations.checkpoint import run_checkpoint
    from warehouse.db import sqlalchemy_url

    stage = Stage("GX checkpoint")
    try:
        with measured(stage):
            report = run_checkpoint(sqlalchemy_url(url), url, gx_dir, settings.contract().audited_status)
    except Exception as exc:  # a table the build could not make: GX cannot even add its asset
        stage.detail = {"success": False, "failures": [f"{type(exc).__name__}: {str(exc)[:200]}"]}
        return stage
    stage.rows = report.evaluated
    stage.detail = {"success": report.success, "failures": [str(f)[:200] for f in report.failures]}
    return stage


def readme_queries() -> list[tuple[str, str]]:
    """The README's example analyst queries, numbered as there (README.md, 'Example queries')."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("**Example queries**", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    queries = []
    for part in re.split(r";[ \t]*(?:\n|$)", block):  # a statement ends its line with ";"
        lines = [ln for ln in part.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        title = (
            lines[0].removeprefix("-- ").strip() if lines[0].startswith("--") else f"query {len(queries) + 1}"
        )
        sql = "\n".join(ln for ln in lines if not ln.lstrip().startswith("--"))
        queries.append((title, sql))
    return queries


def run_queries(url: str) -> list[Stage]:
    import psycopg

    stages = []
    with psycopg.connect(url, autocommit=True) as conn:
        for title, sql in readme_queries():
            stage = Stage(f"query {title[:60]}")
            try:
                with measured(stage):
                    stage.rows = len(conn.execute(sql).fetchall())
            except psycopg.Error as exc:  # a mart the build could not make
                stage.detail = {"failed": [f"{type(exc).__name__}: {str(exc).splitlines()[0]}"]}
            stages.append(stage)
    return stages


# ---------------------------------------------------------------------------------------------- main
def print_table(stages: list[Stage]) -> None:
    header = (
        f"{'stage':<64}{'rows':>10}{'seconds':>10}{'rows/s':>11}{'COPY rows/s':>13}{'vs COPY':>9}"
        f"{'peak MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for s in stages:
        d = s.as_dict()
        copy_rate = f"{d['copy_rows_per_s']:,}" if "copy_rows_per_s" in d else ""
        ratio = f"{d['vs_copy']:.2f}×" if "vs_copy" in d else ""
        rate = f"{d['rows_per_s']:,}" if d["rows_per_s"] else ""
        print(
            f"{s.name[:63]:<64}{s.rows:>10,}{s.seconds:>10.3f}{rate:>11}{copy_rate:>13}{ratio:>9}"
            f"{s.peak_rss_mb:>9.0f}"
        )
        for key in ("failed", "failures"):
            for line in d.get(key) or []:
                print(f"    ! {line}")
        if d.get("slowest_nodes"):
            print("    slowest: " + ", ".join(f"{n} {t:.1f}s" for n, t in d["slowest_nodes"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls of the base days (orders: 0.3×)")
    parser.add_argument("--days", type=int, default=7, help="base days; the new day adds calls/days calls")
    parser.add_argument("--statement-timeout", type=int, default=900, help="seconds a dbt statement may run")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.json")
    args = parser.parse_args()

    import psycopg
    from psycopg.conninfo import make_conninfo

    from flows.config import get_settings
    from warehouse.db import database_url, migrate

    settings = get_settings()
    work = Path(mkdtemp(prefix="callaudit-scale-"))
    rng = random.Random(args.seed)
    stages: list[Stage] = []

    prepare = Stage("make inputs (files, not the pipeline)", throughput=True)
    with measured(prepare):
        base, new_day = make_inputs(work, args.calls, args.days, rng)
        inference = write_inference(work / "inference", base[0].calls, rng)
        new_inference = write_inference(work / "new-day" / "inference", new_day.calls, rng)
    prepare.rows = args.calls + len(new_day.calls)

    server = database_url(settings)
    db = f"scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'create database "{db}"')
    url = make_conninfo(server, dbname=db)
    print(f"database {db}, inputs in {work}", flush=True)
    try:
        migrate(url)
        manifests = [p for d in base for p in d.manifests]
        stages += load_day(url, settings, manifests, base[0].calls_file, "")
        fill = Stage("fill inference tables by COPY (not the pipeline)", throughput=True)
        with measured(fill):
            fill.rows = copy_inference(url, inference)
        stages.append(fill)
        for s in stages:
            print(f"  {s.name}: {s.seconds:.1f} s", flush=True)
        stages.append(dbt_build(url, settings, work / "dbt-target", args.statement_timeout, " (full)"))
        print(f"  {stages[-1].name}: {stages[-1].seconds:.1f} s", flush=True)
        stages.append(gx_checkpoint(url, settings, work / "gx"))
        print(f"  {stages[-1].name}: {stages[-1].seconds:.1f} s", flush=True)
        stages += run_queries(url)
        stages += load_day(url, settings, new_day.manifests, new_day.calls_file, " (new day)")
        fill = Stage("fill inference tables, new day (not the pipeline)", throughput=True)
        with measured(fill):
            fill.rows = copy_inference(url, new_inference)
        stages.append(fill)
        stages.append(
            dbt_build(url, settings, work / "dbt-target", args.statement_timeout, " (after one new day)")
        )
    finally:
        if not args.keep:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'drop database "{db}" with (force)')

    with psycopg.connect(server) as conn:
        version = conn.execute("select version()").fetchone()[0]
    orders = sum(d.orders for d in base)
    print(
        f"\n{args.calls:,} calls / {orders:,} orders over {args.days} days; new day: "
        f"{len(new_day.calls):,} calls / {new_day.orders:,} orders\n"
    )
    print_table([prepare, *stages])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(),
                "calls": args.calls,
                "orders": orders,
                "days": args.days,
                "new_day_calls": len(new_day.calls),
                "new_day_orders": new_day.orders,
                "cpus": os.cpu_count(),
                "postgres": version,
                "stages": [s.as_dict() for s in [prepare, *stages]],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
