"""Similar calls at scale: ``int_similar_transcripts`` is incremental. A run looks for the nearest
neighbours of the recordings embedded since the last run (and of those that had one of them among their
neighbours), finds for them what a full build finds, leaves every other recording's rows as they were, and
``marts.similar_calls`` shows each pair at or above the threshold both ways. On a copy of the session's
warehouse."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import clone_database, run_dbt

HELD = 12  # recordings embedded "after" the first build


@pytest.fixture(scope="module")
def clone(server_url: str, warehouse) -> str:
    return clone_database(server_url, warehouse.url, prefix="t_similar")


def build(url: str, *extra: str) -> None:
    result = run_dbt(url, "build", "--select", "int_similar_transcripts", "similar_calls", *extra)
    assert result.success, [str(r.message) for r in result.result or [] if r.message]


def nearest(url: str) -> set[tuple[str, str, float]]:
    with psycopg.connect(url) as conn:
        return set(
            conn.execute(
                "select audio_sha256, similar_audio_sha256, similarity"
                " from intermediate.int_similar_transcripts"
            ).fetchall()
        )


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
    assert {r for r in after if r[0] in held} == {r for r in full if r[0] in held}
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
