"""Similar calls at scale: ``int_similar_transcripts`` is incremental. A run looks for the nearest
neighbours of the recordings embedded since the last run (and of those that had one of them among their
neighbours), finds for them what a full build finds, leaves every other recording's rows as they were, and
``marts.similar_calls`` shows each pair at or above the threshold both ways, rebuilding only the pairs of the
recordings whose neighbours or calls changed. On a copy of the session's warehouse."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import psycopg.rows
import pytest
import yaml

from flows.transform import DBT_PROJECT_DIR
from tests.conftest import clone_database, dbt_succeeds

HELD = 12  # recordings embedded "after" the first build


@pytest.fixture(scope="module")
def clone(server_url: str, warehouse) -> str:
    return clone_database(server_url, warehouse.url, prefix="t_similar")


def build(url: str, *extra: str) -> None:
    dbt_succeeds(url, "build", "--select", "int_similar_transcripts", "similar_calls", *extra)


def nearest(url: str) -> set[tuple[str, str, float]]:
    with psycopg.connect(url) as conn:
        return set(
            conn.execute(
                "select audio_sha256, similar_audio_sha256, similarity"
                " from intermediate.int_similar_transcripts"
            ).fetchall()
        )


def by_probe(rows: set[tuple[str, str, float]]) -> dict[str, tuple[list[float], set[str]]]:
    """Each probe's nearest as the look-up defines them: its similarities, and the neighbours closer than
    the farthest one kept. Which of several neighbours tied at that distance are kept is the index's
    choice (identical transcripts have identical vectors), and may differ between two builds."""
    similarities: dict[str, list[float]] = {}
    for probe, _, similarity in rows:
        similarities.setdefault(probe, []).append(similarity)
    return {
        probe: (sorted(values), {b for a, b, s in rows if a == probe and s > min(values)})
        for probe, values in similarities.items()
    }


def test_a_run_looks_only_at_what_was_embedded_since_the_last(clone: str) -> None:
    from flows.config import get_settings

    threshold = get_settings().similarity_threshold
    build(clone, "--full-refresh")
    full = nearest(clone)
    with psycopg.connect(clone) as conn:
        conn.execute(
            f"""create table public.held as select * from raw.transcript_embeddings
                order by created_at desc, sha256 limit {HELD}"""
        )
        conn.execute("delete from raw.transcript_embeddings where sha256 in (select sha256 from public.held)")
        held = {r[0] for r in conn.execute("select sha256 from public.held")}
    assert len(held) == HELD
    build(clone, "--full-refresh")
    before = nearest(clone)
    assert not any(sha in held for row in before for sha in row[:2])
    with psycopg.connect(clone) as conn:
        conn.execute(
            """insert into raw.transcript_embeddings
               select sha256, model, text_hash, call_id, dimension, embedding, clock_timestamp()
               from public.held"""
        )
    build(clone)
    after = nearest(clone)
    # the new recordings' nearest are a full build's; nobody else was looked at again
    assert by_probe({r for r in after if r[0] in held}) == by_probe({r for r in full if r[0] in held})
    assert {r for r in after if r[0] not in held} == before
    build(clone)  # nothing embedded since: nothing changes
    assert nearest(clone) == after
    with psycopg.connect(clone) as conn:
        pairs = set(
            conn.execute(
                """select f.sha256, g.sha256 from marts.similar_calls s
                   join raw.calls c on c.call_id = s.call_id join raw.audio_files f using (audio_path)
                   join raw.calls d on d.call_id = s.similar_call_id
                   join raw.audio_files g on g.audio_path = d.audio_path"""
            ).fetchall()
        )
    expected = {(a, b) for a, b, similarity in after if similarity >= threshold}
    assert expected and pairs == expected | {(b, a) for a, b in expected}


def test_a_changed_vector_is_looked_at_again_with_those_that_had_it_as_neighbour(clone: str) -> None:
    """A recording transcribed again gets a new vector: its rows, and the rows of the recordings that had it
    among their nearest, are looked up again (their similarity to it changed)."""
    before = nearest(clone)
    changed, neighbour = next((a, b) for a, b, _ in sorted(before))
    with psycopg.connect(clone) as conn:
        conn.execute(
            """update raw.transcript_embeddings
               set embedding = (select embedding from raw.transcript_embeddings where sha256 = %s),
                   created_at = clock_timestamp()
               where sha256 = %s""",
            [neighbour, changed],
        )
    build(clone)
    after = nearest(clone)
    pointing = {a for a, b, _ in before if b == changed}
    assert pointing, "nobody had it as a neighbour"
    # the changed recording now has the neighbour's vector: they are the same, similarity 1
    assert (changed, neighbour, 1.0) in after
    for a, b, similarity in after:
        if b == changed and a in pointing:
            with psycopg.connect(clone) as conn:
                (expected,) = conn.execute(
                    """select round((1 - (x.embedding <=> y.embedding))::numeric, 4)::double precision
                       from raw.transcript_embeddings x, raw.transcript_embeddings y
                       where x.sha256 = %s and y.sha256 = %s""",
                    [a, b],
                ).fetchone()
            assert similarity == expected
    untouched = {r for r in before if r[0] != changed and r[0] not in pointing}
    assert untouched <= after


SIMILAR_COLUMNS = (
    "call_id, similar_call_id, similarity, is_same_file, is_same_client, branch, similar_branch, started_at,"
    " similar_started_at, embedding_model, audio_sha256, similar_audio_sha256, call_loaded_at"
)


def similar_rows(url: str) -> dict[str, dict]:
    """marts.similar_calls by pair key: each row's columns but its build time, and ``xmin`` (the transaction
    that wrote the row)."""
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        rows = conn.execute(
            f"select pair_key, xmin::text as xmin, {SIMILAR_COLUMNS} from marts.similar_calls"
        )
        return {row.pop("pair_key"): row for row in rows}


def columns(rows: dict[str, dict]) -> dict[str, dict]:
    return {key: {k: v for k, v in row.items() if k != "xmin"} for key, row in rows.items()}


def test_similar_calls_rebuilds_only_the_pairs_whose_recordings_or_calls_changed(clone: str) -> None:
    """After the look-ups of the tests above, a run's rows are a full build's; a run with nothing new rewrites
    no row; a recording with a new vector, a call that moved, one that is gone and a new call to a paired
    recording rebuild the pairs of the recordings looked up and of those calls' recordings only, and the
    result is again a full build's."""
    build(clone)
    incremental = similar_rows(clone)
    dbt_succeeds(clone, "build", "--select", "similar_calls", "--full-refresh")
    assert incremental and columns(similar_rows(clone)) == columns(incremental)

    build(clone)
    settled = similar_rows(clone)
    build(clone)  # nothing changed: no row is written again
    assert similar_rows(clone) == settled

    recording_of = {row["call_id"]: row["audio_sha256"] for row in settled.values()}
    partners: dict[str, set[str]] = {}
    for row in settled.values():
        partners.setdefault(row["audio_sha256"], set()).add(row["similar_audio_sha256"])
    first_call: dict[str, str] = {}
    for call_id, sha in sorted(recording_of.items()):
        first_call.setdefault(sha, call_id)
    gone_sha, *others = first_call
    # a new call to a recording whose partners keep their calls (not the gone call's recording's)
    reused_sha = next(sha for sha in others if sha not in partners[gone_sha])
    moved_sha = next(sha for sha in others if sha != reused_sha)
    gone, reused, moved = first_call[gone_sha], first_call[reused_sha], first_call[moved_sha]
    # a recording transcribed again that now says what an unpaired one says: its pairs go, a new one comes
    retold = next(sha for sha in others if sha not in {reused_sha, moved_sha} | partners[gone_sha])
    with psycopg.connect(clone) as conn:
        (twin,) = conn.execute(
            """select sha256 from raw.transcript_embeddings
               where sha256 <> all(%s) order by sha256 limit 1""",
            [[*partners, *recording_of.values()]],
        ).fetchone()
        conn.execute(
            """update raw.transcript_embeddings
               set embedding = (select embedding from raw.transcript_embeddings where sha256 = %s),
                   created_at = clock_timestamp()
               where sha256 = %s""",
            [twin, retold],
        )
        conn.execute(  # a calls file changed: the loader replaced its rows (a new load time)
            """update raw.calls
               set start_time = start_time + interval '1 minute', loaded_at = clock_timestamp()
               where call_id = %s""",
            [moved],
        )
        conn.execute("delete from raw.calls where call_id = %s", [gone])
        conn.execute(
            """insert into raw.calls (call_id, source_path, row_number, branch, caller_number, client_number,
                                      client_number_raw, start_time, duration_s, audio_path)
               select 'C-REUSED', source_path, row_number + 100000, branch, caller_number, client_number,
                      client_number_raw, start_time + interval '1 day', duration_s, audio_path
               from raw.calls where call_id = %s""",
            [reused],
        )
    dbt_succeeds(clone, "build", "--select", "int_recorded_calls", "int_similar_transcripts", "similar_calls")
    after = similar_rows(clone)
    assert not any(gone in (row["call_id"], row["similar_call_id"]) for row in after.values())
    assert any(row["call_id"] == "C-REUSED" for row in after.values())
    assert {row["started_at"] for row in after.values() if row["call_id"] == moved} == {
        row["started_at"] + timedelta(minutes=1) for row in settled.values() if row["call_id"] == moved
    }
    assert {row["similar_audio_sha256"] for row in after.values() if row["audio_sha256"] == retold} >= {twin}
    assert not partners[retold] & {
        row["similar_audio_sha256"] for row in after.values() if row["audio_sha256"] == retold
    } - {twin}
    with psycopg.connect(
        clone
    ) as conn:  # the recordings this run looked up (the retold one, its old partners)
        looked_up = {
            sha
            for (sha,) in conn.execute(
                """select audio_sha256 from intermediate.int_similar_transcripts
                   where looked_up_at = (
                       select max(looked_up_at) from intermediate.int_similar_transcripts
                   )"""
            )
        }
    assert retold in looked_up
    touched = {recording_of[moved], recording_of[gone], recording_of[reused], *looked_up}
    kept = {
        key: row
        for key, row in settled.items()
        if row["audio_sha256"] not in touched and row["similar_audio_sha256"] not in touched
    }
    assert kept and all(after[key] == row for key, row in kept.items())  # same xmin: not written again
    dbt_succeeds(clone, "build", "--select", "similar_calls", "--full-refresh")
    assert columns(similar_rows(clone)) == columns(after)


def compiled_select(url: str, model: str, *extra: str) -> str:
    """The model's select as dbt compiles it now (a full build's, or an incremental run's once the table
    exists)."""
    result = dbt_succeeds(url, "compile", "--select", model, *extra)
    (code,) = [r.node.compiled_code for r in result.result if r.node.name == model]
    return code


def plan_nodes(plan: dict, under_gather: bool = False) -> list[tuple[dict, bool]]:
    """Each node of a JSON plan, and whether a Gather is above it."""
    found = [(plan, under_gather)]
    below = under_gather or plan["Node Type"] in ("Gather", "Gather Merge")
    for child in plan.get("Plans", []):
        found += plan_nodes(child, below)
    return found


def look_up_plan(url: str, *extra: str) -> dict:
    """The plan PostgreSQL makes for int_similar_transcripts' select with debug_parallel_query: a plan that
    parallel workers can run whole gets a Gather on top (on these few rows the planner's costs would not
    choose one)."""
    code = compiled_select(url, "int_similar_transcripts", *extra)
    with psycopg.connect(url) as conn:
        conn.execute("set debug_parallel_query = on")
        return conn.execute(f"explain (format json) {code}").fetchone()[0][0]["Plan"]


def test_the_look_ups_find_the_exact_nearest_in_parallel_workers(clone: str) -> None:
    """Through the HNSW index, raw.nearest_embeddings finds what an exact scan of every vector finds (itself
    left out); the model calls it below a Gather — in PostgreSQL's parallel workers — in a full build and in
    an incremental one (a lateral look-up, or a cut-off read from a subquery, keeps it in one process)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    neighbours = project["vars"]["similar_neighbours"]
    build(clone, "--full-refresh")
    with psycopg.connect(clone) as conn, conn.transaction():
        conn.execute("set local enable_indexscan = off")
        exact = set(
            conn.execute(
                """select probe.sha256, nearest.sha256,
                          round((1 - (probe.embedding <=> nearest.embedding))::numeric, 4)::double precision
                   from raw.transcript_embeddings as probe
                   cross join lateral (
                       select candidate.sha256, candidate.embedding from raw.transcript_embeddings candidate
                       where candidate.model = probe.model and candidate.sha256 <> probe.sha256
                       order by candidate.embedding <=> probe.embedding limit %s
                   ) as nearest""",
                [neighbours],
            ).fetchall()
        )
    assert len({probe for probe, _, _ in exact}) > 20
    assert by_probe(nearest(clone)) == by_probe(exact)
    for extra in (("--full-refresh",), ()):
        nodes = plan_nodes(look_up_plan(clone, *extra))
        assert any(node["Node Type"] == "ProjectSet" and under for node, under in nodes), extra


def test_an_incremental_run_finds_the_affected_pairs_by_joins_not_row_by_row(clone: str) -> None:
    """similar_calls reads the rows involving the affected recordings through joins: an `in (…) or in (…)`
    filter is a subplan tested row by row, hashed only while the list fits in work_mem — a new day of a
    1,000,000-call warehouse (99,455 recordings) had it read the list for each of 6.3 million rows."""
    build(clone)
    compiled = compiled_select(clone, "similar_calls")
    assert "similar_calls_affected" in compiled  # the incremental select, not a full build's
    with psycopg.connect(clone) as conn:
        conn.execute(
            """create temporary table similar_calls_affected as
               select distinct audio_sha256 from intermediate.int_similar_transcripts"""
        )
        conn.execute("analyze similar_calls_affected")
        plan = conn.execute(f"explain (format json) {compiled}").fetchone()[0][0]["Plan"]
    assert not [node for node, _ in plan_nodes(plan) if node.get("Parent Relationship") == "SubPlan"]
