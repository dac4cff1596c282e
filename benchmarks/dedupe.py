"""Near-duplicate calls with pgvector: HNSW scale, the shipped k-NN model, and accuracy on real embeddings.

Everything it measures is the project's own: the embedded PostgreSQL + pgvector is started and stopped by
``warehouse.db`` (``start_embedded``/``stop_embedded``, in a state folder of its own under /tmp, never the
user's ``.state``), the migrations of ``sql/`` make the tables (``raw.transcript_embeddings``,
``vector(384)``, and its HNSW index as migration 007 creates it), and the k-nearest-neighbour join is the dbt
model ``int_similar_transcripts`` as ``dbt compile`` writes it for the pipeline's vars (its upstream staging
view built by ``dbt run``; a first build, every recording looked up), run unchanged on the data loaded into
the raw table and kept at or above ``similarity_threshold`` as ``marts.similar_calls`` keeps it. For each
size (10k and 100k by default):

* scale, on synthetic unit vectors of the table's dimension clustered around 1,000 centres (plus 1% planted
  near-copies): COPY time, the build time of the migration's HNSW index with the default
  ``maintenance_work_mem`` and with it raised, recall@10 of ``order by embedding <=> q limit 10`` through
  that index at ``hnsw.ef_search`` 40 and 100 against exact search (numpy, float64, ties counted),
  queries/s of each and of exact search in SQL;
* the model's SQL, timed end to end on the whole table with its plan, and its pairs against the exact
  k-NN pairs (numpy) up to 20k vectors.

and on real embeddings (``inference.embeddings.Embedder``, the packaged all-MiniLM-L6-v2): ~300 French
redacted call transcripts in the phrasing of the synthetic generator (``synth.phrases``, composed as
``synth/render.py`` speaks a call), with near-duplicates (the same call with ASR-like errors) and distinct
calls sharing a script, embedded (texts/s on one thread), loaded as the embedding stage stores them, and
paired by the model (compiled once more with ``similarity_threshold`` at the sweep's floor):
precision/recall of "pair is a duplicate" at the shipped threshold and over a sweep, a trigram-Jaccard
second stage over the model's pairs, the word edit distance (``inference.asr_model.edit_distance``) of
duplicates and look-alikes, and the similarity distributions.

Prints a table and writes JSON (benchmarks/results/dedupe.json).

    nice -n 10 .venv/bin/python benchmarks/dedupe.py [--sizes 10000 100000] [--out FILE]

One script (about 950 lines), a development tool: each measurement (HNSW scale, the shipped k-NN model,
accuracy on real embeddings) prints its rows into one table and one JSON.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: the benchmark shares the machine
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from tempfile import mkdtemp  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference.asr_model import edit_distance  # noqa: E402
from synth import phrases  # noqa: E402
from synth.scenarios import MOTIF_INTENT  # noqa: E402

MODEL = "int_similar_transcripts"  # the dbt model measured
UPSTREAM = "stg_raw__transcript_embeddings"  # the staging view it reads (built with dbt)
TABLE = "raw.transcript_embeddings"  # what the embedding stage writes and the model reads
CENTRES = 1_000
EF_SEARCH = (40, 100)
RAISED_MWM = "1GB"
EXACT_SQL_QUERIES = 50
EXACT_PAIRS_UP_TO = 20_000
ACCURACY_FLOOR = 0.5  # the model compiled with this similarity_threshold gives the sweep's candidates


# ----------------------------------------------------------------------------------- the shipped warehouse


@dataclass(frozen=True)
class Shipped:
    """What production ships, read from the project: the migrated table's index and dimension, the compiled
    model (at the pipeline's vars and at the accuracy floor) and the vars it was compiled with."""

    url: str
    dimension: int
    index: str  # the HNSW index's qualified name
    index_ddl: str  # its definition as the migration made it (pg_get_indexdef)
    index_options: dict[str, str]
    threshold: float  # similarity_threshold, as the pipeline passes it (flows.transform.dbt_vars)
    neighbours: int  # similar_neighbours (dbt_project.yml)
    sql: str  # the model's compiled SQL at the pipeline's vars
    floor_sql: str  # the same model compiled with similarity_threshold = ACCURACY_FLOOR
    dbt_vars: dict[str, Any]


@contextmanager
def project_postgres() -> Iterator[str]:
    """The project's embedded PostgreSQL + pgvector (``warehouse.db.start_embedded``) in a state folder of its
    own under /tmp, migrated with ``sql/`` (``warehouse.db.migrate``); stopped at the end, and deleted unless
    the benchmark failed (dbt's logs are there). Yields the URL of the migrated database."""
    from flows.config import get_settings
    from warehouse.db import migrate, start_embedded, stop_embedded

    settings = get_settings()
    failed = True
    try:
        url = start_embedded(settings.pgdata)
        migrate(url)
        yield url
        failed = False
    finally:
        stop_embedded(settings.pgdata)
        if failed:
            log(f"failed: the state folder is kept for its logs: {settings.state_dir}")
        else:
            shutil.rmtree(settings.state_dir, ignore_errors=True)


def dbt(url: str, command: list[str], variables: dict[str, Any]) -> None:
    """One plain dbt invocation on the project and its profile (the database from ``flows.transform``'s
    environment), its target and logs in the state folder (never ``dbt_project/logs``)."""
    from dbt.cli.main import dbtRunner

    from flows.config import get_settings
    from flows.transform import DBT_PROJECT_DIR, dbt_environment

    settings = get_settings()
    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    paths = [
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(settings.state_dir / "dbt-logs"),
    ]
    quiet = ["--log-level", "none", "--log-level-file", "info"]  # dbt compile would print the SQL
    with dbt_environment(url):
        result = dbtRunner().invoke([*command, "--vars", json.dumps(variables), *project, *paths, *quiet])
    if not result.success:
        failed = [str(r.message) for r in getattr(result.result, "results", None) or [] if r.message]
        detail = "; ".join(failed) or str(result.exception)
        raise RuntimeError(f"dbt {' '.join(command)} failed: {detail}")


def compiled_model(url: str, variables: dict[str, Any]) -> str:
    """``dbt compile --select MODEL``: the SQL its build runs, read from ``target/compiled``."""
    from flows.config import get_settings

    dbt(url, ["compile", "--select", MODEL], variables)
    (path,) = (get_settings().dbt_target_dir / "compiled").rglob(f"{MODEL}.sql")
    nearest = path.read_text(encoding="utf-8").strip().rstrip(";")
    # the model keeps each recording's k nearest; marts.similar_calls keeps those at or above the threshold
    threshold = float(variables["similarity_threshold"])
    return f"select * from ({nearest}) as nearest where similarity >= {threshold}"


def shipped(url: str) -> Shipped:
    """Build the model's upstream view with dbt, compile the model, and read the migrated index."""
    import yaml

    from flows.config import get_settings
    from flows.transform import DBT_PROJECT_DIR, dbt_vars

    variables = json.loads(dbt_vars(get_settings()))
    project_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    log(f"dbt run --select {UPSTREAM}; dbt compile --select {MODEL}")
    dbt(url, ["run", "--select", UPSTREAM], variables)
    sql = compiled_model(url, variables)
    floor_sql = compiled_model(url, {**variables, "similarity_threshold": ACCURACY_FLOOR})
    with psycopg.connect(url) as conn:
        index, ddl, options = conn.execute(
            """select format('%%I.%%I', n.nspname, c.relname), pg_get_indexdef(c.oid), c.reloptions
               from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
               join pg_namespace n on n.oid = c.relnamespace
               where i.indrelid = %s::regclass and a.amname = 'hnsw'""",
            [TABLE],
        ).fetchone()
        (dimension,) = conn.execute(
            "select atttypmod from pg_attribute where attrelid = %s::regclass and attname = 'embedding'",
            [TABLE],
        ).fetchone()
    return Shipped(
        url=url,
        dimension=dimension,
        index=index,
        index_ddl=ddl,
        index_options=dict(o.split("=", 1) for o in options or []),
        threshold=float(variables["similarity_threshold"]),
        neighbours=int(project_vars["similar_neighbours"]),
        sql=sql,
        floor_sql=floor_sql,
        dbt_vars=variables,
    )


def connect(url: str) -> psycopg.Connection:
    from pgvector.psycopg import register_vector

    conn = psycopg.connect(url, autocommit=True, prepare_threshold=None)  # plans must see each SET
    register_vector(conn)
    conn.execute("set max_parallel_maintenance_workers = 0")  # one core, like the rest of the benchmark
    conn.execute("set max_parallel_workers_per_gather = 0")
    return conn


def key(i: int) -> str:
    """The ``sha256`` column of row ``i`` (the table's key is the recording's hash)."""
    return f"{i:064x}"


def load_embeddings(
    conn: psycopg.Connection,
    vectors: np.ndarray,
    model: str,
    text_hashes: list[str] | None = None,
    call_ids: list[str] | None = None,
) -> float:
    """Empty the table and COPY ``vectors`` (rows ``key(0..n-1)``) in binary, in the embedding stage's
    columns (``flows.embed.EMBEDDING_COLUMNS``); return the COPY's seconds."""
    from flows.embed import EMBEDDING_COLUMNS

    conn.execute(f"truncate {TABLE}")
    dim = vectors.shape[1]
    started = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy(f"copy {TABLE} ({', '.join(EMBEDDING_COLUMNS)}) from stdin (format binary)") as copy,
    ):
        copy.set_types(["text", "text", "text", "text", "int4", "vector"])
        for i, vector in enumerate(vectors):
            text = text_hashes[i] if text_hashes else key(i)
            copy.write_row((key(i), model, text, call_ids[i] if call_ids else None, dim, vector))
    elapsed = time.perf_counter() - started
    conn.execute(f"analyze {TABLE}")
    return elapsed


def build_hnsw(conn: psycopg.Connection, ship: Shipped, maintenance_work_mem: str | None) -> dict:
    """Drop and rebuild the migration's HNSW index (its own definition); return the settings and seconds."""
    conn.execute(f"drop index if exists {ship.index}")
    conn.execute("reset maintenance_work_mem")
    if maintenance_work_mem:
        conn.execute(f"set maintenance_work_mem = '{maintenance_work_mem}'")
    mwm = conn.execute("show maintenance_work_mem").fetchone()[0]
    started = time.perf_counter()
    conn.execute(ship.index_ddl)
    seconds = time.perf_counter() - started
    size = conn.execute("select pg_relation_size(%s::regclass)", [ship.index]).fetchone()[0]
    conn.execute("reset maintenance_work_mem")
    return {"maintenance_work_mem": mwm, "seconds": round(seconds, 2), "index_mb": round(size / 2**20, 1)}


# ----------------------------------------------------------------------------------- synthetic vectors


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def clustered_vectors(n: int, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around random centres, noise norm 0.3-1.0 (cosine to the centre 0.96-0.71)."""
    which = rng.integers(0, len(centres), n)
    noise = unit(rng.standard_normal((n, centres.shape[1])))
    scale = rng.uniform(0.3, 1.0, (n, 1)).astype(np.float32)
    return unit(centres[which] + scale * noise)


def synthetic_dataset(n: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clustered vectors, 1% of them near-copies (noise 0.1) of others; and the centres."""
    centres = unit(rng.standard_normal((CENTRES, dim)))
    data = clustered_vectors(n, centres, rng)
    copies = rng.choice(n, n // 100, replace=False)
    originals = rng.integers(0, n, len(copies))
    data[copies] = unit(data[originals] + 0.1 * unit(rng.standard_normal((len(copies), dim))))
    return data, centres


def exact_top_k(data: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine distances (float64) of each query's k nearest rows: ``(ids, distances)``."""
    ids, dists = [], []
    d64 = data.astype(np.float64)
    for start in range(0, len(queries), 256):
        dist = 1.0 - queries[start : start + 256].astype(np.float64) @ d64.T
        part = np.argpartition(dist, k, axis=1)[:, :k]
        order = np.take_along_axis(dist, part, axis=1).argsort(axis=1)
        ids.append(np.take_along_axis(part, order, axis=1))
        dists.append(np.take_along_axis(dist, ids[-1], axis=1))
    return np.vstack(ids), np.vstack(dists)


def recall_at_k(data: np.ndarray, query: np.ndarray, found: list[int], kth_distance: float, k: int) -> float:
    """Share of the k results no farther than the exact k-th neighbour (ties count as hits)."""
    if not found:
        return 0.0
    dist = 1.0 - data[np.asarray(found)].astype(np.float64) @ query.astype(np.float64)
    return min(int((dist <= kth_distance + 1e-6).sum()), k) / k


# ----------------------------------------------------------------------------------- search

SEARCH_SQL = f"select sha256 from {TABLE} order by embedding <=> %s limit {{k}}"


def timed_queries(conn: psycopg.Connection, queries: np.ndarray, k: int) -> tuple[list, float]:
    sql = SEARCH_SQL.format(k=k)
    results = []
    started = time.perf_counter()
    for query in queries:
        results.append([int(row[0], 16) for row in conn.execute(sql, (query,)).fetchall()])
    return results, time.perf_counter() - started


def uses_index(conn: psycopg.Connection, sql: str, params: tuple = ()) -> tuple[bool, str]:
    plan = "\n".join(row[0] for row in conn.execute("explain " + sql, params).fetchall())
    return "hnsw" in plan.lower() and "Index Scan" in plan, plan


def search_benchmark(conn: psycopg.Connection, data: np.ndarray, queries: np.ndarray) -> dict:
    """recall@10 and queries/s through the index at each ef_search, and exact search in SQL."""
    k = 10
    _, exact_dist = exact_top_k(data, queries, k)
    rows = []
    for ef in EF_SEARCH:
        conn.execute(f"set hnsw.ef_search = {ef}")
        indexed, plan = uses_index(conn, SEARCH_SQL.format(k=k), (queries[0],))
        found, seconds = timed_queries(conn, queries, k)
        recalls = [
            recall_at_k(data, q, f, d[-1], k) for q, f, d in zip(queries, found, exact_dist, strict=True)
        ]
        rows.append(
            {
                "ef_search": ef,
                "index_scan": indexed,
                "recall_at_10": round(float(np.mean(recalls)), 4),
                "min_recall": round(float(np.min(recalls)), 2),
                "qps": round(len(queries) / seconds, 1),
                "ms_per_query": round(1000 * seconds / len(queries), 2),
            }
        )
    conn.execute("reset hnsw.ef_search")
    conn.execute("set enable_indexscan = off")
    sample = queries[:EXACT_SQL_QUERIES]
    found, seconds = timed_queries(conn, sample, k)
    conn.execute("reset enable_indexscan")
    exact_recall = [
        recall_at_k(data, q, f, d[-1], k)
        for q, f, d in zip(sample, found, exact_dist[: len(sample)], strict=True)
    ]
    exact = {
        "queries": len(sample),
        "recall_at_10_vs_numpy": round(float(np.mean(exact_recall)), 4),
        "qps": round(len(sample) / seconds, 2),
        "ms_per_query": round(1000 * seconds / len(sample), 1),
    }
    return {"queries": len(queries), "hnsw": rows, "exact_sql": exact}


# ----------------------------------------------------------------------------------- the model's k-NN join


def model_pairs(rows: list[tuple]) -> list[tuple[int, int, float]]:
    """The model's rows ``(audio_sha256, similar_audio_sha256, embedding_model, similarity, …)`` as row
    ids."""
    return [(int(a, 16), int(b, 16), float(sim)) for a, b, _, sim, *_ in rows]


def run_model(conn: psycopg.Connection, sql: str, timeout_s: float) -> dict:
    """Run the compiled model under a statement timeout: seconds, pairs found, and whether it used HNSW."""
    indexed, plan = uses_index(conn, sql)
    conn.execute(f"set statement_timeout = {int(timeout_s * 1000)}")
    started = time.perf_counter()
    try:
        rows = conn.execute(sql).fetchall()
        finished = True
    except psycopg.errors.QueryCanceled:
        rows, finished = [], False
    seconds = time.perf_counter() - started
    conn.execute("reset statement_timeout")
    return {
        "finished": finished,
        "seconds": round(seconds, 2),
        "timeout_s": timeout_s,
        "pairs": len(rows),
        "hnsw_index_scan": indexed,
        "plan": plan,
        "rows": model_pairs(rows),
    }


def exact_knn_pairs(data: np.ndarray, threshold: float, k: int) -> set[tuple[int, int]]:
    """The model's join computed exactly in numpy: directed (a, b) among a's k nearest others, sim >= t."""
    pairs: set[tuple[int, int]] = set()
    d64 = data.astype(np.float64)
    for start in range(0, len(data), 512):
        sims = d64[start : start + 512] @ d64.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        for r, cols in enumerate(top):
            pairs.update((start + r, int(c)) for c in cols if sims[r, c] >= threshold)
    return pairs


def model_benchmark(conn: psycopg.Connection, ship: Shipped, data: np.ndarray, timeout_s: float) -> dict:
    """The compiled model on the whole table (at most ``timeout_s``); recall against the exact pairs."""
    result = run_model(conn, ship.sql, timeout_s)
    found = {(a, b) for a, b, _ in result.pop("rows")}
    result["rows_per_s"] = round(len(data) / result["seconds"], 1) if result["finished"] else None
    if len(data) <= EXACT_PAIRS_UP_TO and result["finished"]:
        exact = exact_knn_pairs(data, ship.threshold, ship.neighbours)
        result["exact_pairs"] = len(exact)
        result["recall_vs_exact"] = round(len(found & exact) / max(len(exact), 1), 4)
        result["precision_vs_exact"] = round(len(found & exact) / max(len(found), 1), 4)
    return result


def scale_benchmark(
    conn: psycopg.Connection, ship: Shipped, n: int, n_queries: int, model_timeout_s: float
) -> dict:
    rng = np.random.default_rng(n)
    data, centres = synthetic_dataset(n, ship.dimension, rng)
    queries = clustered_vectors(n_queries, centres, rng)
    log(f"[{n}] COPY into {TABLE}")
    result: dict = {"size": n, "dim": ship.dimension, "load_average_at_start": load_average()}
    conn.execute(f"drop index if exists {ship.index}")  # COPY into the bare table, then time the build
    result["copy_s"] = round(load_embeddings(conn, data, "synthetic"), 2)
    log(f"[{n}] HNSW build, default maintenance_work_mem")
    result["build_default_mwm"] = build_hnsw(conn, ship, None)
    log(f"[{n}] HNSW build, maintenance_work_mem={RAISED_MWM}")
    result["build_raised_mwm"] = build_hnsw(conn, ship, RAISED_MWM)
    log(f"[{n}] search")
    result["search"] = search_benchmark(conn, data, queries)
    log(f"[{n}] {MODEL}")
    result["model"] = model_benchmark(conn, ship, data, model_timeout_s)
    result["load_average_at_end"] = load_average()
    conn.execute(f"truncate {TABLE}")
    return result


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: the benchmark shares its machine, timings move with them."""
    return [round(x, 2) for x in os.getloadavg()]


# ----------------------------------------------------------------------------------- call transcripts

# The generator's situations: an answered call's intent (synth.phrases.ANSWER, keyed as synth.scenarios
# keys them by motif, 4 the customer who lets the technician come) or a voicemail with a message.
INTENTS = {**MOTIF_INTENT, "ahead": 4}
KINDS = (*INTENTS, "voicemail")
ORDERS = tuple((t, o) for t in phrases.SUBJECT for o in phrases.OFFER_WORDS)  # the subject's slots

_CONFUSIONS = {"c'est": "s'est", "et": "est", "à": "a", "ce": "se", "ça": "sa", "vous": "vou", "pas": "pa"}
_FILLERS = ("euh", "hum", "ben", "donc")
_TOKEN = re.compile(r"^\[[A-Z_]+_\d+\][.,?]?$")
_PUNCT = re.compile(r"[^\w\s'\[\]-]")


@dataclass(frozen=True)
class Template:
    kind: str
    phrases: tuple[int, ...]  # the phrasings chosen in synth.phrases: the call's script


@dataclass(frozen=True)
class Transcript:
    text: str
    call: int  # the call it is a transcript of: same call = duplicate
    template: Template
    variant: str  # "original" or the ASR-like edits applied


def random_template(rng: random.Random) -> Template:
    """A script: the phrasings ``synth/render.py`` picks for one call of ``kind``."""
    kind = rng.choice(KINDS)
    if kind == "voicemail":
        return Template(
            kind, (rng.randrange(len(phrases.GREETING)), rng.randrange(len(phrases.VOICEMAIL_MESSAGE)))
        )
    courteous = rng.randrange(2)  # the technician's behaviour picks the intro and the close
    intro = phrases.INTRO_COURTEOUS if courteous else phrases.INTRO_RUDE
    close = phrases.CLOSE_COURTEOUS if courteous else phrases.CLOSE_RUDE
    sizes = (len(phrases.HELLO), len(intro), len(phrases.ANSWER[INTENTS[kind]]), len(close))
    return Template(kind, (courteous, *(rng.randrange(s) for s in sizes)))


def render_call(template: Template, rng: random.Random) -> str:
    """One call of ``template`` with fresh slots (the order's type and offer in the subject, the day), its
    utterances in the order ``synth/render.py`` speaks them (answered: hello, intro, answer, close; a
    voicemail: greeting, message), redacted as the pipeline stores it: the people as ``[PERSON_n]`` in order
    of appearance, the company kept (``CALLAUDIT_REDACT_KEEP``)."""
    slots = {
        "company": phrases.COMPANY,
        "subject": phrases.subject(*rng.choice(ORDERS)),
        "day": rng.choice(phrases.DAYS),
    }
    if template.kind == "voicemail":
        greeting, message = template.phrases
        slots |= {"customer": "[PERSON_1]", "agent": "[PERSON_2]"}
        parts = (phrases.GREETING[greeting], phrases.VOICEMAIL_MESSAGE[message])
    else:
        courteous, hello, intro, answer, close = template.phrases
        slots["agent"] = "[PERSON_1]"
        parts = (
            phrases.HELLO[hello],
            (phrases.INTRO_COURTEOUS if courteous else phrases.INTRO_RUDE)[intro],
            phrases.ANSWER[INTENTS[template.kind]][answer],
            (phrases.CLOSE_COURTEOUS if courteous else phrases.CLOSE_RUDE)[close],
        )
    return " ".join(p.format(**slots) for p in parts)


def asr_edit(text: str, rng: random.Random) -> tuple[str, str]:
    """The same call as another ASR pass might write it: 1-3 small errors, lower case/no punctuation half
    of the time. Returns the text and the names of the edits."""
    words = text.split()
    names = []
    for _ in range(rng.randint(1, 3)):
        plain = [i for i, w in enumerate(words) if not _TOKEN.match(w)]
        i = rng.choice(plain)
        edit = rng.choice(("drop_word", "change_char", "confusion", "repeat_word", "filler", "split_word"))
        if edit == "drop_word" and len(words) > 10:
            del words[i]
        elif edit == "change_char" and len(words[i]) > 3:
            j = rng.randrange(len(words[i]))
            words[i] = words[i][:j] + rng.choice("aeioulnrst") + words[i][j + 1 :]
        elif edit == "confusion" and words[i].lower() in _CONFUSIONS:
            words[i] = _CONFUSIONS[words[i].lower()]
        elif edit == "repeat_word":
            words.insert(i, words[i])
        elif edit == "filler":
            words.insert(i, rng.choice(_FILLERS))
        elif edit == "split_word" and len(words[i]) > 5:
            j = rng.randrange(2, len(words[i]) - 2)
            words[i : i + 1] = [words[i][:j], words[i][j:]]
        else:
            continue
        names.append(edit)
    out = " ".join(words)
    if rng.random() < 0.5:
        out = " ".join(_PUNCT.sub(" ", out.lower()).replace("[", " [").split())
        out = re.sub(r"\[([a-z_]+)_(\d+)\]", lambda m: f"[{m.group(1).upper()}_{m.group(2)}]", out)
        names.append("lower_no_punct")
    return out, "+".join(names) or "whitespace"


def make_transcripts(target: int, seed: int = 20261121) -> list[Transcript]:
    """About ``target`` transcripts: distinct calls, 1-3 per template, each with 0-2 ASR-like duplicates."""
    rng = random.Random(seed)
    out: list[Transcript] = []
    seen: set[str] = set()
    call = 0
    while len(out) < target:
        template = random_template(rng)
        for _ in range(rng.choice((1, 2, 2, 3))):
            text = render_call(template, rng)
            if text in seen:
                continue  # two calls with the same redacted text: no text method can tell them apart
            seen.add(text)
            out.append(Transcript(text, call, template, "original"))
            for _ in range(rng.choice((0, 1, 1, 2))):
                noisy, edits = asr_edit(text, rng)
                out.append(Transcript(noisy, call, template, edits))
            call += 1
    return out


# ----------------------------------------------------------------------------------- accuracy


@dataclass
class PairLabels:
    """All unordered pairs ``i < j`` of the corpus with their cosine similarity and relation."""

    i: np.ndarray
    j: np.ndarray
    similarity: np.ndarray
    duplicate: np.ndarray
    same_template: np.ndarray
    same_kind: np.ndarray

    def truth(self) -> set[tuple[int, int]]:
        return set(zip(self.i[self.duplicate].tolist(), self.j[self.duplicate].tolist(), strict=True))


@dataclass(frozen=True)
class Candidate:
    """A pair the model returned: its cosine similarity and the trigram Jaccard of the normalised texts."""

    pair: tuple[int, int]
    similarity: float
    jaccard: float


def label_pairs(transcripts: list[Transcript], vectors: np.ndarray) -> PairLabels:
    i, j = np.triu_indices(len(transcripts), k=1)
    sims = (vectors.astype(np.float64) @ vectors.astype(np.float64).T)[i, j]
    calls = np.array([t.call for t in transcripts])
    templates = np.array([repr(t.template) for t in transcripts])
    kinds = np.array([t.template.kind for t in transcripts])
    return PairLabels(i, j, sims, calls[i] == calls[j], templates[i] == templates[j], kinds[i] == kinds[j])


def trigram_jaccard(a: str, b: str) -> float:
    ga, gb = ({t[k : k + 3] for k in range(max(len(t) - 2, 1))} for t in (a, b))
    return len(ga & gb) / len(ga | gb)


def precision_recall(predicted: set, truth: set) -> dict:
    hits = len(predicted & truth)
    p = hits / len(predicted) if predicted else 1.0
    r = hits / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "predicted": len(predicted)}


def distribution(values: np.ndarray) -> dict:
    if len(values) == 0:
        return {"n": 0}
    q = np.percentile(values, [0, 1, 5, 50, 95, 99, 100])
    keys = ("min", "p1", "p5", "p50", "p95", "p99", "max")
    return {"n": int(len(values)), **{k: round(float(v), 4) for k, v in zip(keys, q, strict=True)}}


def model_candidates(conn: psycopg.Connection, ship: Shipped, normalised: list[str]) -> list[Candidate]:
    """The pairs of the model compiled at the accuracy floor, as unordered pairs, with the trigram Jaccard
    of their normalised texts (a second stage the model does not have: measured here, in Python)."""
    out: dict[tuple[int, int], Candidate] = {}
    for a, b, sim in model_pairs(conn.execute(ship.floor_sql).fetchall()):
        pair = (min(a, b), max(a, b))
        out[pair] = Candidate(pair, sim, trigram_jaccard(normalised[a], normalised[b]))
    return list(out.values())


def sweep(
    candidates: list[Candidate], truth: set, thresholds: np.ndarray, key: str, floor: float
) -> list[dict]:
    """P/R of the candidates with ``key`` >= each threshold and similarity >= ``floor``, vs all duplicates."""
    rows = []
    for t in thresholds:
        predicted = {c.pair for c in candidates if getattr(c, key) >= t and c.similarity >= floor}
        rows.append({"threshold": round(float(t), 3), **precision_recall(predicted, truth)})
    return rows


def best_threshold(rows: list[dict]) -> dict:
    """Highest F1; among equals, the middle of the run of equal thresholds (the widest margin)."""
    top = max(r["f1"] for r in rows)
    ties = [r for r in rows if r["f1"] == top]
    return ties[len(ties) // 2]


def pick(rows: list[dict], threshold: float) -> dict:
    return next(r for r in rows if abs(r["threshold"] - threshold) < 1e-9)


def embed_transcripts(transcripts: list[Transcript]) -> tuple[Any, np.ndarray, np.ndarray, dict]:
    """Embed with the pipeline's embedder (normalised text) and, for comparison, the raw text."""
    import torch

    from inference.embeddings import Embedder, EmbeddingConfig

    torch.set_num_threads(1)
    started = time.perf_counter()
    embedder = Embedder(EmbeddingConfig(device="cpu"))
    load_s = time.perf_counter() - started
    texts = [t.text for t in transcripts]
    embedder.embed(texts[:32])  # warm-up
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    embed_s = time.perf_counter() - started
    raw = np.vstack([embedder._encode(texts[k : k + 32]) for k in range(0, len(texts), 32)])
    stats = {
        "model_id": embedder.model_id,
        "load_s": round(load_s, 2),
        "texts_per_s": round(len(texts) / embed_s, 1),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "threads": torch.get_num_threads(),
        "load_average": load_average(),
        "batch_size": embedder.config.batch_size,
    }
    return embedder, vectors, raw, stats


def accuracy_benchmark(conn: psycopg.Connection, ship: Shipped, target: int) -> dict:
    from inference.embeddings import normalize_text, text_hash

    transcripts = make_transcripts(target)
    embedder, vectors, raw, stats = embed_transcripts(transcripts)
    labels = label_pairs(transcripts, vectors)
    truth = labels.truth()
    normalised = [normalize_text(t.text) for t in transcripts]
    load_embeddings(
        conn,
        vectors,
        embedder.model_id,
        [text_hash(t.text) for t in transcripts],
        [f"call-{t.call}" for t in transcripts],
    )
    candidates = model_candidates(conn, ship, normalised)
    threshold = ship.threshold
    by_similarity = sweep(candidates, truth, np.round(np.arange(0.80, 0.996, 0.005), 3), "similarity", 0.0)
    by_jaccard = sweep(candidates, truth, np.round(np.arange(0.70, 0.991, 0.01), 2), "jaccard", threshold)
    raw_labels = label_pairs(transcripts, raw)
    jaccard_all = np.array(
        [trigram_jaccard(normalised[a], normalised[b]) for a, b in zip(labels.i, labels.j, strict=True)]
    )
    lookalike = ~labels.duplicate & labels.same_template
    result = {
        "transcripts": len(transcripts),
        "calls": len({t.call for t in transcripts}),
        "duplicate_pairs": len(truth),
        "same_template_distinct_pairs": int(lookalike.sum()),
        "embedding": stats,
        "examples": [asdict(t) for t in transcripts[:5]],
        "candidates_at_threshold": len([c for c in candidates if c.similarity >= threshold]),
        "candidate_recall_at_threshold": pick(by_similarity, threshold)["recall"],
        "embedding_only": {
            "at_model_threshold": pick(by_similarity, threshold),
            "best": best_threshold(by_similarity),
            "sweep": by_similarity,
            "raw_text_best_f1_all_pairs": best_f1_all_pairs(raw_labels.similarity, raw_labels.duplicate),
            "normalised_text_best_f1_all_pairs": best_f1_all_pairs(labels.similarity, labels.duplicate),
        },
        "two_stage": {
            "rule": f"{MODEL} (similarity >= {threshold}) and trigram Jaccard >= threshold",
            "best": best_threshold(by_jaccard),
            "sweep": by_jaccard,
        },
        "similarity": similarity_distributions(labels, labels.similarity),
        "similarity_raw_text": similarity_distributions(raw_labels, raw_labels.similarity),
        "trigram_jaccard": similarity_distributions(labels, jaccard_all),
        "word_edit_distance": ambiguity(labels, normalised),
        "hardest": hardest_pairs(transcripts, labels),
    }
    conn.execute(f"truncate {TABLE}")
    return result


def ambiguity(labels: PairLabels, normalised: list[str], max_words: int = 8) -> dict:
    """Word edit distance between normalised texts: duplicates vs same-template distinct calls.

    Where distinct calls are as close as duplicates (one slot word apart vs 1-6 ASR edits), no text
    similarity can separate them: this bounds what any threshold can reach on this corpus.
    """
    lookalike = ~labels.duplicate & labels.same_template

    def histogram(mask: np.ndarray) -> dict[str, int]:
        counts = np.bincount(
            [
                min(edit_distance(normalised[a].split(), normalised[b].split()), max_words)
                for a, b in zip(labels.i[mask], labels.j[mask], strict=True)
            ],
            minlength=max_words + 1,
        )
        return {(f"{k}" if k < max_words else f">={k}"): int(c) for k, c in enumerate(counts)}

    return {"duplicates": histogram(labels.duplicate), "same_template_distinct": histogram(lookalike)}


def best_f1_all_pairs(similarity: np.ndarray, duplicate: np.ndarray) -> dict:
    """The best threshold on all pairs (no top-k restriction), for comparing representations."""
    best = {"f1": -1.0}
    for t in np.unique(np.round(similarity[similarity >= 0.8], 4)):
        predicted = similarity >= t
        hits = int((predicted & duplicate).sum())
        p, r = hits / max(int(predicted.sum()), 1), hits / max(int(duplicate.sum()), 1)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > best["f1"]:
            best = {
                "threshold": float(t),
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(f1, 4),
            }
    return best


def similarity_distributions(labels: PairLabels, values: np.ndarray) -> dict:
    lookalike = ~labels.duplicate & labels.same_template
    return {
        "duplicates": distribution(values[labels.duplicate]),
        "same_template_distinct": distribution(values[lookalike]),
        "same_kind_other_template": distribution(values[~labels.same_template & labels.same_kind]),
        "different_kind": distribution(values[~labels.same_kind]),
    }


def hardest_pairs(transcripts: list[Transcript], labels: PairLabels, n: int = 3) -> dict:
    """The least similar duplicates and the most similar distinct calls, with their texts."""

    def show(idx: np.ndarray) -> list[dict]:
        return [
            {
                "similarity": round(float(labels.similarity[k]), 4),
                "a": transcripts[labels.i[k]].text,
                "b": transcripts[labels.j[k]].text,
                "b_edits": transcripts[labels.j[k]].variant,
            }
            for k in idx
        ]

    dup = np.flatnonzero(labels.duplicate)
    distinct = np.flatnonzero(~labels.duplicate)
    return {
        "least_similar_duplicates": show(dup[np.argsort(labels.similarity[dup])[:n]]),
        "most_similar_distinct": show(distinct[np.argsort(-labels.similarity[distinct])[:n]]),
    }


# ----------------------------------------------------------------------------------- report


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def print_table(results: dict) -> None:
    index = results["settings"]["index"]
    options = ", ".join(f"{k}={v}" for k, v in index["options"].items())
    print(f"\nHNSW of {TABLE} ({options}, cosine), dim {results['settings']['dimension']}, one core")
    print(
        f"{'size':>8} {'copy s':>7} {'build s (mwm)':>22} {'build s (mwm)':>22} {'ef':>4} "
        f"{'recall@10':>9} {'qps':>8}"
    )
    for s in results["scale"]:
        d, r = s["build_default_mwm"], s["build_raised_mwm"]
        for k, row in enumerate(s["search"]["hnsw"]):
            left = (
                f"{s['size']:>8} {s['copy_s']:>7} {d['seconds']:>11} ({d['maintenance_work_mem']:>7}) "
                f"{r['seconds']:>11} ({r['maintenance_work_mem']:>7})"
                if k == 0
                else " " * 62
            )
            print(f"{left} {row['ef_search']:>4} {row['recall_at_10']:>9} {row['qps']:>8}")
        e = s["search"]["exact_sql"]
        print(f"{'':>62} {'seq':>4} {e['recall_at_10_vs_numpy']:>9} {e['qps']:>8}")
    settings = results["settings"]
    print(f"\n{MODEL} as dbt compiles it (k={settings['neighbours']}, similarity >= {settings['threshold']})")
    print(f"{'size':>8} {'hnsw':>5} {'finished':>8} {'seconds':>8} {'rows/s':>8} {'pairs':>7} {'recall':>7}")
    for s in results["scale"]:
        m = s["model"]
        print(
            f"{s['size']:>8} {m['hnsw_index_scan']!s:>5} {m['finished']!s:>8} {m['seconds']:>8} "
            f"{m['rows_per_s']!s:>8} {m['pairs']:>7} {m.get('recall_vs_exact', '-')!s:>7}"
        )
    acc = results.get("accuracy")
    if acc:
        emb, two = acc["embedding_only"], acc["two_stage"]
        print(
            f"\nDuplicates: {acc['transcripts']} transcripts of {acc['calls']} calls, "
            f"{acc['duplicate_pairs']} duplicate pairs, "
            f"{acc['same_template_distinct_pairs']} same-template distinct pairs; "
            f"{acc['embedding']['texts_per_s']} texts/s ({acc['embedding']['model_id']}, 1 thread)"
        )
        rows = [
            (f"cosine >= {settings['threshold']} ({MODEL})", emb["at_model_threshold"]),
            ("cosine, best threshold", emb["best"]),
            (f"cosine >= {settings['threshold']}, trigram Jaccard best", two["best"]),
        ]
        for name, r in rows:
            print(
                f"  {name:>42} {r['threshold']:>6}: precision {r['precision']:.4f} recall {r['recall']:.4f}"
            )
        for name, hist in acc["word_edit_distance"].items():
            print(f"  word edit distance, {name}: " + " ".join(f"{k}:{v}" for k, v in hist.items()))
        for title, key in (("cosine", "similarity"), ("trigram Jaccard", "trigram_jaccard")):
            print(f"  {title}:")
            for name, dist in acc[key].items():
                print(f"  {name:>28}: " + " ".join(f"{k}={v}" for k, v in dist.items()))


@dataclass
class Options:
    sizes: list[int] = field(default_factory=lambda: [10_000, 100_000])
    queries: int = 200
    transcripts: int = 300
    model_timeout_s: float = 300.0
    out: Path = ROOT / "benchmarks" / "results" / "dedupe.json"


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--transcripts", type=int, default=300, help="0: skip the accuracy part")
    parser.add_argument(
        "--model-timeout-s",
        "--lateral-timeout-s",
        dest="model_timeout_s",
        type=float,
        default=300.0,
        help=f"statement timeout of {MODEL}'s query at each size",
    )
    parser.add_argument("--out", type=Path, default=Options.out)
    args = parser.parse_args(argv)
    return Options(args.sizes, args.queries, args.transcripts, args.model_timeout_s, args.out)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # Before flows is imported: the embedded server, Prefect's home and dbt's target live in a folder of
    # the benchmark's own (deleted at the end), and no DATABASE_URL points it at another warehouse.
    os.environ["CALLAUDIT_STATE_DIR"] = mkdtemp(prefix="callaudit-dedupe-", dir="/tmp")
    os.environ.pop("DATABASE_URL", None)
    results: dict = {
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "threads": 1},
        "scale": [],
    }
    with project_postgres() as url:
        ship = shipped(url)
        results["settings"] = {
            "table": TABLE,
            "dimension": ship.dimension,
            "index": {"name": ship.index, "definition": ship.index_ddl, "options": ship.index_options},
            "raised_maintenance_work_mem": RAISED_MWM,
            "max_parallel_maintenance_workers": 0,
            "max_parallel_workers_per_gather": 0,
            "model": MODEL,
            "neighbours": ship.neighbours,
            "threshold": ship.threshold,
            "dbt_vars": ship.dbt_vars,
            "model_sql": ship.sql,
            "accuracy_floor": ACCURACY_FLOOR,
        }
        with connect(url) as conn:
            results["postgres"] = conn.execute("select version()").fetchone()[0]
            results["pgvector"] = conn.execute(
                "select extversion from pg_extension where extname = 'vector'"
            ).fetchone()[0]
            if options.transcripts:
                log("accuracy on real embeddings")
                results["accuracy"] = accuracy_benchmark(conn, ship, options.transcripts)
            for n in options.sizes:
                results["scale"].append(
                    scale_benchmark(conn, ship, n, options.queries, options.model_timeout_s)
                )
                write(results, options.out)
    write(results, options.out)
    print_table(results)
    return 0


def write(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
