"""The BI marts on the real pipeline's output: synthetic inputs → Prefect daily flow → dbt → the dashboards'
tables (daily_compliance, daily_call_outcomes, attempt_timelines), and what the analyst role may read."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from tests.conftest import Warehouse, run_dbt

pytestmark = pytest.mark.usefixtures("prefect_api")

BI_MARTS = ("daily_compliance", "daily_call_outcomes", "attempt_timelines", "technician_scorecards")
FORBIDDEN = (
    "raw.calls",
    "raw.manifest_rows",
    "vault.pii_tokens",
    "ops.runs",
    "ops.rejects",
    "staging.stg_raw__calls",
    "intermediate.int_attempts_sequenced",
    "seeds.branch_map",
)


@pytest.fixture(scope="module")
def database_url(warehouse_url: str) -> str:
    """The session's shared warehouse, read-only (the data tests' corruption test works on a copy)."""
    return warehouse_url


@pytest.fixture(scope="module")
def daily_run(warehouse: Warehouse):
    """The cold daily run on the session's synth set that built the warehouse."""
    return warehouse.run


def rows(url: str, sql: str) -> list[dict]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql).fetchall()


def pct(part: int, whole: int) -> Decimal:
    """PostgreSQL's round(100.0 * part / whole, 1): half away from zero."""
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def test_daily_compliance_adds_up_to_order_compliance(daily_run, database_url: str) -> None:
    orders = rows(database_url, "select * from marts.order_compliance")
    first_line = {
        r["order_key"]: r["caller_number"]
        for r in rows(
            database_url, "select order_key, caller_number from marts.call_attempts where attempt_number = 1"
        )
    }
    expected: dict[tuple, Counter] = defaultdict(Counter)
    for o in orders:
        group = (
            o["suspended_on"],
            o["order_type"],
            o["offer"],
            o["expected_branch"],
            o["motif_key"],
            first_line.get(o["order_key"]),
        )
        c = expected[group]
        c["orders"] += 1
        c["compliant_orders"] += o["is_compliant"]
        c["branch_failed_orders"] += not o["is_branch_ok"]
        c["attempts_failed_orders"] += not o["is_attempts_ok"]
        c["gap_failed_orders"] += not o["is_gap_ok"]
        c["outcome_failed_orders"] += o["is_outcome_ok"] is False
        c["outcome_pending_orders"] += o["is_outcome_ok"] is None
        c["needs_review_orders"] += o["is_review_needed"]
        c["duplicate_orders"] += not o["is_duplicate_ok"]
        c["attempts"] += o["attempts"]
        c["duplicate_attempts"] += o["attempts"] - o["counted_attempts"]
    got = rows(database_url, "select * from marts.daily_compliance")
    by_group = {
        (
            r["suspended_on"],
            r["order_type"],
            r["offer"],
            r["expected_branch"],
            r["motif_key"],
            r["technician_line"],
        ): r
        for r in got
    }
    assert len(by_group) == len(got), "two rows share a group: the grain is broken"
    assert set(by_group) == set(expected)
    for group, counts in expected.items():
        row = by_group[group]
        assert {k: row[k] for k in counts} == {k: counts[k] for k in counts}, group
        assert row["non_compliant_orders"] == counts["orders"] - counts["compliant_orders"], group
        assert row["compliant_pct"] == pct(counts["compliant_orders"], counts["orders"]), group
    assert sum(r["orders"] for r in got) == len(orders) == daily_run.orders
    # the data set exercises what the sums are about, so the comparison above is not vacuous
    for column in (
        "branch_failed_orders",
        "attempts_failed_orders",
        "gap_failed_orders",
        "outcome_failed_orders",
    ):
        assert sum(r[column] for r in got) > 0, column
    assert sum(r["duplicate_attempts"] for r in got) > 0
    assert len({r["technician_line"] for r in got if r["technician_line"]}) > 3
    assert any(0 < r["compliant_pct"] < 100 for r in got)


def test_the_runs_verdict_summary_counts_the_orders_of_its_day(daily_run, database_url: str) -> None:
    """The run's own summary (Prefect artifact, terminal table) reads the dashboard mart's rows of its day
    (listed_on); counted here from order_compliance's verdicts per type and offer, it says the same."""
    orders = rows(
        database_url,
        f"select * from marts.order_compliance where listed_on = '{daily_run.day}'",
    )
    counted: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 8)
    for o in orders:
        flags = (
            True,
            o["is_compliant"],
            o["is_branch_ok"] is False,
            o["is_attempts_ok"] is False,  # null: undecided, as in the marts' counts
            o["is_gap_ok"] is False,
            o["is_outcome_ok"] is False,
            o["is_outcome_ok"] is None,
            o["is_review_needed"],
        )
        row = counted[(o["order_type"], o["offer"])]
        for k, flag in enumerate(flags):
            row[k] += bool(flag)
    summary = {
        (v.order_type, v.offer): [
            v.orders,
            v.compliant,
            v.branch_failed,
            v.attempts_failed,
            v.gap_failed,
            v.outcome_failed,
            v.outcome_pending,
            v.needs_review,
        ]
        for v in daily_run.verdicts
    }
    assert summary == dict(counted) and len(summary) == 4
    assert sum(v.orders for v in daily_run.verdicts) == len(orders) > 0


def test_attempt_timelines_recompute_from_call_attempts(daily_run, database_url: str) -> None:
    attempts = rows(
        database_url,
        "select attempt_key, order_key, attempt_number, started_at, duration_s, is_duplicate, outcome "
        "from marts.call_attempts order by order_key, attempt_number",
    )
    timeline = {r["attempt_key"]: r for r in rows(database_url, "select * from marts.attempt_timelines")}
    assert set(timeline) == {a["attempt_key"] for a in attempts}
    first: dict[str, object] = {}
    previous: dict[str, object] = {}
    counted: Counter = Counter()
    for a in attempts:
        t = timeline[a["attempt_key"]]
        key = a["order_key"]
        first.setdefault(key, a["started_at"])
        if key in previous:
            minutes = (a["started_at"] - previous[key]).total_seconds() / 60
            assert abs(float(t["minutes_since_previous"]) - minutes) < 0.006, a["attempt_key"]
            assert t["is_gap_ok"] == (minutes >= 120), a["attempt_key"]
        else:
            assert t["minutes_since_previous"] is None and t["attempt_number"] == 1
        since_first = (a["started_at"] - first[key]).total_seconds() / 60
        assert abs(float(t["minutes_since_first"]) - since_first) < 0.006, a["attempt_key"]
        previous[key] = a["started_at"]
        if not a["is_duplicate"]:
            counted[key] += 1
        assert t["is_counted"] is not a["is_duplicate"]
        assert t["counted_attempt_number"] == (None if a["is_duplicate"] else counted[key])
        assert t["started_at"] == a["started_at"] and t["outcome"] == a["outcome"]
        assert t["ended_at"] == a["started_at"] + timedelta(seconds=float(a["duration_s"]))
    # rule 2's count per order is the last counted position
    compliance = {r["order_key"]: r for r in rows(database_url, "select * from marts.order_compliance")}
    for key, n in counted.items():
        assert compliance[key]["counted_attempts"] == n, key
    assert max(Counter(a["order_key"] for a in attempts).values()) >= 3
    assert any(a["is_duplicate"] for a in attempts)
    assert any(
        t["minutes_since_previous"] is not None and t["minutes_since_previous"] < 120
        for t in timeline.values()
    )


def test_technician_scorecards_recompute_from_the_orders_and_the_lines_calls(
    daily_run, database_url: str
) -> None:
    """Each audited order someone called is on one scorecard: its first attempt's line, the Monday of its
    suspension day; the talk measures average that line's own answered calls with speech on those orders,
    whose QA items (each call once) add up to the card's met and applicable counts."""
    attempts = rows(
        database_url,
        "select order_key, call_id, attempt_number, caller_number, outcome from marts.call_attempts",
    )
    orders = {r["order_key"]: r for r in rows(database_url, "select * from marts.order_compliance")}
    talk = {r["call_id"]: r for r in rows(database_url, "select * from marts.call_conversations")}
    qa: dict[str, list[str]] = {}
    for r in rows(database_url, "select call_id, qa_status from marts.call_qa_items"):
        qa.setdefault(r["call_id"], []).append(r["qa_status"])
    cards = {
        (r["technician_line"], r["week_started_on"]): r
        for r in rows(database_url, "select * from marts.technician_scorecards")
    }
    line = {a["order_key"]: a["caller_number"] for a in attempts if a["attempt_number"] == 1}
    expected: dict[tuple, dict] = {}
    for key, o in orders.items():
        if key not in line:
            continue
        card = expected.setdefault(
            (line[key], o["suspended_on"] - timedelta(days=o["suspended_on"].weekday())),
            {"orders": 0, "compliant_orders": 0, "gap_failed_orders": 0, "talk": [], "calls": set()},
        )
        card["orders"] += 1
        card["compliant_orders"] += o["is_compliant"]
        card["gap_failed_orders"] += not o["is_gap_ok"]
        own = [
            a["call_id"]
            for a in attempts
            if a["order_key"] == key
            and a["caller_number"] == line[key]
            and a["outcome"] == "answered"
            and talk[a["call_id"]]["has_speech"]
        ]
        card["talk"] += [float(talk[call_id]["talk_s"]) for call_id in own]
        card["calls"] |= set(own)
    assert set(cards) == set(expected) and len(cards) > 1
    for k, e in expected.items():
        card = cards[k]
        assert (card["orders"], card["compliant_orders"], card["gap_failed_orders"]) == (
            e["orders"],
            e["compliant_orders"],
            e["gap_failed_orders"],
        ), k
        assert card["answered_calls"] == len(e["talk"]), k
        if e["talk"]:
            assert float(card["avg_talk_s"]) == pytest.approx(sum(e["talk"]) / len(e["talk"]), abs=0.051)
        statuses = [status for call_id in e["calls"] for status in qa.get(call_id, [])]
        assert card["qa_items_met"] == statuses.count("met"), k
        assert card["qa_items_applicable"] == len(statuses) - statuses.count("not_applicable"), k
    assert sum(c["answered_calls"] for c in cards.values()) > 0
    assert sum(c["qa_items_met"] for c in cards.values()) > 0


def test_daily_call_outcomes_count_every_call_once(daily_run, database_url: str) -> None:
    from flows.config import get_settings

    tz = ZoneInfo(get_settings().timezone)
    calls = rows(
        database_url,
        """select c.call_id, c.branch, c.start_time, c.duration_s, f.duration_s as audio_s,
                  a.outcome, a.speech_onset_s, d.call_id is not null as is_duplicate
           from raw.calls c
           left join raw.audio_files f on f.audio_path = c.audio_path
           left join intermediate.int_audio_analysis_latest a on a.audio_sha256 = f.sha256
           left join intermediate.int_attempt_duplicates d on d.call_id = c.call_id""",
    )
    assert len({c["call_id"] for c in calls}) == len(calls) > 0
    expected: dict[tuple, Counter] = defaultdict(Counter)
    talk: dict[tuple, float] = defaultdict(float)
    for c in calls:
        group = (c["start_time"].astimezone(tz).date(), c["branch"], c["outcome"] or "not_analysed")
        expected[group]["calls"] += 1
        expected[group]["duplicate_calls"] += c["is_duplicate"]
        if c["speech_onset_s"] is not None:
            expected[group]["calls_with_speech"] += 1
            talk[group] += max(float(c["audio_s"]) - c["speech_onset_s"], 0)
    got = rows(database_url, "select * from marts.daily_call_outcomes")
    by_group = {(r["called_on"], r["branch"], r["outcome"]): r for r in got}
    assert len(by_group) == len(got) and set(by_group) == set(expected)
    branch_day = Counter()
    for (day, branch, _), counts in expected.items():
        branch_day[day, branch] += counts["calls"]
    for group, counts in expected.items():
        row = by_group[group]
        assert {k: row[k] for k in counts} == {k: counts[k] for k in counts}, group
        assert row["branch_day_calls"] == branch_day[group[:2]], group
        assert row["calls_pct"] == pct(counts["calls"], branch_day[group[:2]]), group
        assert row["is_answered"] == (group[2] == "answered")
        # the mart reads the recording's duration rounded to 0.01 s (stg_raw__audio_files)
        assert abs(float(row["total_talk_s"]) - talk[group]) <= 0.005 * counts["calls_with_speech"] + 0.01, (
            group
        )
    assert sum(r["calls"] for r in got) == len(calls) == daily_run.ingest["calls"]["rows"]
    assert sum(r["duplicate_calls"] for r in got) > 0
    assert {"answered", "voicemail", "no_answer"} <= {r["outcome"] for r in got}
    assert sum(r["calls_with_speech"] for r in got) > 0 and len({r["called_on"] for r in got}) > 1


def test_analyst_reads_every_mart_and_nothing_else(daily_run, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        marts = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            )
        }
    assert {"order_compliance", "call_attempts", "similar_calls", *BI_MARTS} <= marts
    with psycopg.connect(database_url) as conn:
        conn.execute("set role callaudit_analyst")
        for table in sorted(marts):
            count = conn.execute(f"select count(*) from marts.{table}").fetchone()[0]
            if table in BI_MARTS:
                assert count > 0, table
    for table in FORBIDDEN:
        with psycopg.connect(database_url) as conn:
            conn.execute("set role callaudit_analyst")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table} limit 1")
    with psycopg.connect(database_url) as conn:
        conn.execute("set role callaudit_analyst")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from marts.daily_compliance")


def test_a_bi_login_in_role_callaudit_analyst_reads_the_marts(daily_run, database_url: str) -> None:
    """The README's recipe for a BI tool's login: create role … login password … in role callaudit_analyst."""
    name = f"bi_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"create role {name} login password 'change-me' in role callaudit_analyst")
    login = make_conninfo(database_url, user=name, password="change-me")
    try:
        with psycopg.connect(login) as conn:
            assert conn.execute("select current_user").fetchone()[0] == name
            total = conn.execute("select sum(orders) from marts.daily_compliance").fetchone()[0]
            assert total == daily_run.orders
        for table in ("raw.calls", "vault.pii_tokens", "ops.runs"):
            with psycopg.connect(login) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table} limit 1")
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"drop role {name}")


def test_marts_are_documented_for_dbt_docs_and_dashboards_exposed(daily_run) -> None:
    """Every mart and each of its columns has a description (a compliance officer reads them in dbt docs),
    every mart has an enforced contract and data tests, the BI marts have unit tests, and the dashboards
    are exposures on the BI marts."""
    from flows.config import get_settings

    manifest = json.loads((get_settings().dbt_target_dir / "manifest.json").read_text())
    marts = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/")
    ]
    assert {m["name"] for m in marts} >= {"order_compliance", "call_attempts", "similar_calls", *BI_MARTS}
    undocumented = [m["name"] for m in marts if len(m["description"].strip()) < 40]
    undocumented += [
        f"{m['name']}.{c}" for m in marts for c, col in m["columns"].items() if not col["description"]
    ]
    assert not undocumented
    assert all(m["contract"]["enforced"] for m in marts)
    tested = {
        n["attached_node"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and n.get("attached_node")
    }
    assert all(m["unique_id"] in tested for m in marts)
    unit_tested = {n["model"] for n in manifest["unit_tests"].values()}
    assert set(BI_MARTS) <= unit_tested
    dashboards = [e for e in manifest["exposures"].values() if e["type"] == "dashboard"]
    exposed = {node.split(".")[-1] for e in dashboards for node in e["depends_on"]["nodes"]}
    assert set(BI_MARTS) <= exposed
    assert all(e["url"] and e["owner"]["name"] and e["description"] for e in dashboards)


# Last in this module: it corrupts the marts to show that each BI mart's data tests can fail.
BI_MART_MODELS = ("daily_compliance", "daily_call_outcomes", "attempt_timelines")


def failed_data_tests(url: str) -> tuple[int, set[tuple[str | None, str, str | None]]]:
    """``dbt test`` of the BI marts' data tests on the warehouse as it is (nothing rebuilt): how many ran, and
    (model, test, column) of each that failed; a singular test is (None, its name, None)."""
    result = run_dbt(url, "test", "--exclude-resource-type", "unit_test", "--select", *BI_MART_MODELS)
    assert result.result is not None, result.exception
    failed = set()
    for r in result.result:
        if str(r.status).lower() not in ("fail", "error"):
            continue
        meta = r.node.test_metadata
        if meta is None:
            failed.add((None, r.node.name, None))
        else:
            failed.add((r.node.attached_node.split(".")[-1], meta.name, r.node.column_name))
    return len(result.result), failed


def test_bi_mart_data_tests_pass_on_the_pipeline_and_name_a_corrupted_row(
    daily_run, warehouse_clone: str
) -> None:
    ran, failed = failed_data_tests(warehouse_clone)
    assert ran > 3 * len(BI_MART_MODELS) and not failed, failed

    with psycopg.connect(warehouse_clone) as conn:
        # daily_compliance: a share over 100 %, and one group counting an order that does not exist
        keys = [
            k for (k,) in conn.execute("select daily_compliance_key from marts.daily_compliance order by 1")
        ]
        assert len(keys) >= 2
        conn.execute(
            "update marts.daily_compliance set compliant_pct = 150 where daily_compliance_key = %s", [keys[0]]
        )
        conn.execute(
            "update marts.daily_compliance set orders = orders + 1 where daily_compliance_key = %s", [keys[1]]
        )
        # daily_call_outcomes: an outcome the audio analysis never gives
        key = conn.execute("select min(call_outcome_key) from marts.daily_call_outcomes").fetchone()[0]
        conn.execute(
            "update marts.daily_call_outcomes set outcome = 'hung_up' where call_outcome_key = %s", [key]
        )
        # attempt_timelines: a first attempt before itself, and an attempt of call_attempts gone missing
        first, other = conn.execute(
            """select (select min(attempt_key) from marts.attempt_timelines where attempt_number = 1),
                      (select max(attempt_key) from marts.attempt_timelines where attempt_number > 1)"""
        ).fetchone()
        assert first and other
        conn.execute(
            "update marts.attempt_timelines set minutes_since_first = -5 where attempt_key = %s", [first]
        )
        conn.execute("delete from marts.attempt_timelines where attempt_key = %s", [other])

    ran_again, failed = failed_data_tests(warehouse_clone)
    assert ran_again == ran
    assert failed == {
        ("daily_compliance", "accepted_range", "compliant_pct"),
        # the sum of orders no longer adds up to order_compliance; the sum of compliant orders still does
        ("daily_compliance", "sum_equals_row_count", "orders"),
        ("daily_call_outcomes", "accepted_values", "outcome"),
        ("attempt_timelines", "accepted_range", "minutes_since_first"),
        # call_attempts holds an attempt attempt_timelines lost
        ("call_attempts", "relationships", "attempt_key"),
    }, failed


def test_every_example_query_of_the_readme_runs_as_the_analyst(daily_run, database_url: str) -> None:
    """The README's example queries (the ones benchmarks/scale.py times) run on the marts as the analyst
    role reads them: a renamed column fails here, not in an analyst's BI tool."""
    from benchmarks.scale import readme_queries

    queries = readme_queries()
    assert len(queries) >= 7
    with psycopg.connect(database_url) as conn:
        conn.execute("set role callaudit_analyst")
        for title, sql in queries:
            try:
                conn.execute(sql).fetchall()
            except psycopg.Error as exc:  # an unknown column, table or a permission
                pytest.fail(f"README query {title!r}: {exc}")
