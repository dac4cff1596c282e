"""Soak: ``kill -9`` at seeded random moments across every stage of the daily run, and PostgreSQL restarts.

One synthetic day (``--orders`` orders, ``--seed``) is audited twice on an embedded PostgreSQL of its own:

* **clean**: one ``callaudit run`` into an empty database, never interrupted — the reference;
* **soak**: ``--rounds`` rounds, each into an empty database of its own. A round starts ``callaudit run``
  again and again; each attempt is killed (SIGKILL to its whole process group: the CLI, its ASR workers,
  dbt and GX in-process) after a seeded random delay, until the round has had its share of the ``--kills``
  kills. ``--pg-restarts`` of the attempts instead have their PostgreSQL stopped (``pg_ctl -m fast``) and
  started again while they run. A last attempt then runs to the end, and the round's warehouse is compared
  with the clean one.

Compared per table of ``raw``, ``ops`` and ``vault`` (``ops.runs``, ``ops.stage_runs`` and ``ops.arrivals``
record each attempt, so they are left out): rows lost (keys of the clean run missing), extra rows (keys the
clean run does not have), duplicate rows (the same key twice); the key is the primary key, or for tables
without a natural one (``ops.rejects``, ``raw.llm_audit``) every column but the run id, serial id and
timestamps. Verdicts: every column of ``marts.order_compliance`` but timestamps, row for row.

The LLM route points at a real local OpenAI-compatible server (``tests/fake_openai.py``: the far edge of the
network) that looks, for every request it receives, whether the warehouse already holds that request's
answer: such a request is a *repeated* one — paid twice. A request whose answer had not been stored when the
attempt was killed is asked again by design (``raw.llm_requests.unanswered_resends``) and is not counted.

The moments are drawn over the clean run's length and taken in order within a round, each attempt's delay
counted from where the previous one was interrupted plus the start-up (``delays``), so the interruptions go
through the stages in turn. Where each landed is the last line the attempt had printed (the stage it was in).
Prints a table and writes JSON (benchmarks/results/soak.json). Takes about (rounds + 1) clean-run times plus
the kills' share.

    nice -n 10 .venv/bin/python benchmarks/soak.py [--orders 40] [--kills 20] [--rounds 4] [--pg-restarts 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from tempfile import mkdtemp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

import flows  # noqa: E402,F401  (offline environment)
from tests.fake_openai import FakeOpenAI, router_config_file  # noqa: E402
from warehouse.db import start_embedded, stop_embedded  # noqa: E402

PER_ATTEMPT = {"ops.runs", "ops.stage_runs", "ops.arrivals"}  # one row per attempt, by design
VOLATILE = re.compile(r"(_at|^run_id|^reject_id)$")  # what differs between two runs of the same inputs
SCHEMAS = ("raw", "ops", "vault")
LOG_PREFIX = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| \w+ +\| .*? - ")  # "12:00:00.000 | INFO | Flow run 'x' - "
TOTALS = ("lost_rows", "extra_rows", "duplicate_rows", "verdicts_differing", "repeated_llm_requests")


class WitnessLLM(FakeOpenAI):
    """Answers like :class:`FakeOpenAI`, and counts the requests whose answer the warehouse already holds."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.database_url: str | None = None
        self.repeated = 0

    def respond(self, rec):
        from flows.classify import request_key

        if self.database_url:
            with psycopg.connect(self.database_url) as conn:
                row = conn.execute(
                    "select answered_at is not null from raw.llm_requests "
                    "where request_key = %s and model = 'remote'",
                    [request_key(self.messages_of(rec))],
                ).fetchone()
            self.repeated += bool(row and row[0])
        return super().respond(rec)


@dataclass
class Attempt:
    round: int
    kind: str  # clean | kill | pg_restart | resume
    delay_s: float | None  # when the kill or the restart came, from the start
    seconds: float
    returncode: int | None
    landed_in: str  # the last line printed before the kill or restart ('' when the run had ended)
    interrupted: bool  # the kill or restart came while the run was still going


@dataclass
class Comparison:
    round: int
    lost_rows: int = 0
    extra_rows: int = 0
    duplicate_rows: int = 0
    verdicts_differing: int = 0
    repeated_llm_requests: int = 0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)  # only tables with a difference


# ------------------------------------------------------------------------------------------ warehouse
def create_database(server_url: str, name: str) -> str:
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return make_conninfo(server_url, dbname=name)


def _tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1",
        [list(SCHEMAS)],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in PER_ATTEMPT]


def _key_columns(conn: psycopg.Connection, table: str) -> list[str]:
    primary = [
        r[0]
        for r in conn.execute(
            "select a.attname from pg_index i join pg_attribute a "
            "on a.attrelid = i.indrelid and a.attnum = any(i.indkey) "
            "where i.indrelid = %s::regclass and i.indisprimary order by a.attnum",
            [table],
        )
    ]
    if primary and not any(VOLATILE.search(c) for c in primary):
        return primary
    columns = conn.execute(
        "select column_name from information_schema.columns where table_schema || '.' || table_name = %s "
        "order by ordinal_position",
        [table],
    ).fetchall()
    return [c for (c,) in columns if not VOLATILE.search(c)]


def snapshot(url: str) -> dict[str, Counter]:
    """Each table's keys (as a multiset of text tuples), and the verdicts under ``marts.order_compliance``."""
    out: dict[str, Counter] = {}
    with psycopg.connect(url) as conn:
        for table in _tables(conn):
            columns = _key_columns(conn, table)
            select = ", ".join(f"{c}::text" for c in columns)
            out[table] = Counter(conn.execute(f"select {select} from {table}").fetchall())
        verdict_columns = [
            c
            for (c,) in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'order_compliance' order by ordinal_position"
            )
            if not VOLATILE.search(c)
        ]
        select = ", ".join(f"{c}::text" for c in verdict_columns)
        out["verdicts"] = Counter(conn.execute(f"select {select} from marts.order_compliance").fetchall())
    return out


def compare(round_: int, clean: dict[str, Counter], soaked: dict[str, Counter], repeated: int) -> Comparison:
    result = Comparison(round=round_, repeated_llm_requests=repeated)
    for table in sorted(set(clean) | set(soaked)):
        before, after = clean.get(table, Counter()), soaked.get(table, Counter())
        lost = sum((before - after).values())
        extra = sum((after - before).values())
        if table == "verdicts":
            result.verdicts_differing = max(lost, extra)
            continue
        duplicates = sum(n - 1 for n in after.values() if n > 1)
        extra -= min(extra, duplicates)  # a key twice is counted as a duplicate, not as an extra row
        result.lost_rows += lost
        result.extra_rows += extra
        result.duplicate_rows += duplicates
        if lost or extra or duplicates:
            result.tables[table] = {"lost": lost, "extra": extra, "duplicates": duplicates}
    return result


# ---------------------------------------------------------------------------------------------- runs
class Runner:
    """Starts ``callaudit run`` on the data set, in a process group of its own, and interrupts it."""

    def __init__(self, data: Path, day: date, env: dict[str, str], logs: Path, pgdata: Path) -> None:
        self.data, self.day, self.env, self.logs, self.pgdata = data, day, env, logs, pgdata
        self.count = 0
        self.first_output_s: float | None = None  # from the start to the first line printed (the clean run)

    def attempt(self, url: str, round_: int, kind: str, delay_s: float | None, timeout_s: float) -> Attempt:
        self.count += 1
        log = self.logs / f"{self.count:03d}-{kind}.log"
        command = [
            str(ROOT / ".venv" / "bin" / "callaudit"),
            "run",
            "--manifests", str(self.data / "manifests"),
            "--calls", str(self.data / "calls.csv"),
            "--audio-root", str(self.data / "audio"),
            "--date", self.day.isoformat(),
        ]  # fmt: skip
        start, landed = time.monotonic(), ""
        with log.open("w", encoding="utf-8") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**self.env, "DATABASE_URL": url},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            interrupted = False
            while self.first_output_s is None and process.poll() is None:  # the clean run: its start-up time
                if log.stat().st_size:
                    self.first_output_s = round(time.monotonic() - start, 1)
                time.sleep(0.2)
            if delay_s is not None:
                try:
                    process.wait(timeout=max(0.0, delay_s - (time.monotonic() - start)))
                except subprocess.TimeoutExpired:
                    interrupted = True
                    landed = _last_line(log)
                    if kind == "kill":
                        os.killpg(process.pid, signal.SIGKILL)
                    else:
                        restart_postgres(self.pgdata)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        _reap(process.pid)
        return Attempt(
            round=round_,
            kind=kind,
            delay_s=delay_s,
            seconds=round(time.monotonic() - start, 1),
            returncode=process.returncode,
            landed_in=landed,
            interrupted=interrupted,
        )


def delays(rng: random.Random, n: int, clean_s: float, startup_s: float) -> list[float]:
    """When to interrupt each of a round's ``n`` attempts: ``n`` moments drawn over the clean run, in order.
    An attempt resumes what the one before had done, so it reaches the clean run's moment ``t[k-1]`` right
    after its start-up: it is interrupted ``t[k] - t[k-1]`` after that, and the interruptions walk through
    the stages as the clean run went through them."""
    moments = sorted(rng.uniform(1.0, clean_s) for _ in range(n))
    return [round(t if k == 0 else startup_s + t - moments[k - 1], 1) for k, t in enumerate(moments)]


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "(nothing printed yet: start-up)"
    return LOG_PREFIX.sub("", lines[-1])[:100]


def _reap(pgid: int) -> None:
    """Whatever the attempt's process group still holds (a worker orphaned by the kill) goes too."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def restart_postgres(pgdata: Path) -> None:
    stop_embedded(pgdata)
    time.sleep(2.0)
    start_embedded(pgdata)


# ---------------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--seed", type=int, default=5, help="the data set's generator seed")
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4, help="empty warehouses the kills are spread over")
    parser.add_argument("--pg-restarts", type=int, default=3)
    parser.add_argument("--kill-seed", type=int, default=2026, help="seed of the kills' moments")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "soak.json")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, databases)")
    args = parser.parse_args()

    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from synth import generate

    rng = random.Random(args.kill_seed)
    work = Path(mkdtemp(prefix="callaudit-soak-"))
    data, logs, pgdata = work / "data", work / "logs", work / "pgdata"
    logs.mkdir()
    print(f"soak: {args.orders} orders (seed {args.seed}), {args.kills} kills and {args.pg_restarts} "
          f"PostgreSQL restarts over {args.rounds} rounds; working folder {work}", flush=True)  # fmt: skip
    generate(data, orders=args.orders, seed=args.seed, day=args.date, progress=False)
    server_url = start_embedded(pgdata)
    attempts: list[Attempt] = []
    comparisons: list[Comparison] = []
    try:
        with prefect_test_harness(server_startup_timeout=180), WitnessLLM(rpm=6000) as llm:
            env = {
                **os.environ,
                "PREFECT_API_URL": PREFECT_API_URL.value(),  # one server: a kill leaves none behind
                "CALLAUDIT_STATE_DIR": str(work / "state"),  # one vault key for both warehouses
                "CALLAUDIT_LLM_CONFIG": str(router_config_file(llm.api_base, work, max_concurrency=2)),
                "CALLAUDIT_LLM_MODEL": "remote",
            }
            runner = Runner(data, args.date, env, logs, pgdata)
            clean_url = create_database(server_url, "soak_clean")
            llm.database_url = clean_url
            clean = runner.attempt(clean_url, 0, "clean", None, timeout_s=1800)
            attempts.append(clean)
            if clean.returncode != 0:
                raise SystemExit(f"soak: the clean run failed (exit {clean.returncode}); see {logs}")
            reference = snapshot(clean_url)
            repeated_clean, startup = llm.repeated, runner.first_output_s or 0.0
            rows = sum(sum(keys.values()) for keys in reference.values())
            print(
                f"soak: clean run {clean.seconds:.0f} s (first line after {startup:.0f} s), "
                f"{len(llm.requests)} LLM requests; {rows} rows in {len(reference)} tables and the verdicts "
                "to compare",
                flush=True,
            )

            kills = [args.kills // args.rounds + (r < args.kills % args.rounds) for r in range(args.rounds)]
            restarts = Counter(rng.randrange(args.rounds) for _ in range(args.pg_restarts))
            for r in range(1, args.rounds + 1):
                url = create_database(server_url, f"soak_{r}")
                llm.database_url, llm.repeated = url, 0
                plan = ["kill"] * kills[r - 1] + ["pg_restart"] * restarts[r - 1]
                rng.shuffle(plan)
                for kind, delay in zip(plan, delays(rng, len(plan), clean.seconds, startup), strict=True):
                    attempt = runner.attempt(url, r, kind, delay, timeout_s=1800)
                    attempts.append(attempt)
                    where = attempt.landed_in or "the run had ended"
                    print(f"soak: round {r} {kind} at {delay:.0f} s → {where}", flush=True)
                    if kind == "pg_restart" and attempt.interrupted:
                        start_embedded(pgdata)  # idempotent: the server is up before the next attempt
                resume = runner.attempt(url, r, "resume", None, timeout_s=1800)
                attempts.append(resume)
                comparison = compare(r, reference, snapshot(url), llm.repeated)
                if resume.returncode != 0:
                    comparison.tables["(resume)"] = {"exit": resume.returncode}
                comparisons.append(comparison)
                print(f"soak: round {r} resumed in {resume.seconds:.0f} s (exit {resume.returncode}): "
                      f"lost {comparison.lost_rows}, extra {comparison.extra_rows}, duplicate "
                      f"{comparison.duplicate_rows}, verdicts differing {comparison.verdicts_differing}, "
                      f"repeated LLM requests {comparison.repeated_llm_requests}", flush=True)  # fmt: skip
    finally:
        stop_embedded(pgdata)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print_table(attempts, comparisons)
    interrupted = [a for a in attempts if a.interrupted]
    result = {
        "benchmark": "soak",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "orders": args.orders,
        "seed": args.seed,
        "kill_seed": args.kill_seed,
        "clean_run_s": clean.seconds,
        "clean_run_repeated_llm_requests": repeated_clean,
        "rows_compared": {table: sum(keys.values()) for table, keys in reference.items()},
        "kills_landed": sum(a.kind == "kill" for a in interrupted),
        "pg_restarts_landed": sum(a.kind == "pg_restart" for a in interrupted),
        "totals": {key: sum(getattr(c, key) for c in comparisons) for key in TOTALS},
        "resumes_failed": sum(a.kind == "resume" and a.returncode != 0 for a in attempts),
        "attempts": [asdict(a) for a in attempts],
        "rounds": [asdict(c) for c in comparisons],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten {args.out}")


def print_table(attempts: list[Attempt], comparisons: list[Comparison]) -> None:
    print("\n| round | kind | at (s) | exit | last line before it (the stage after it was running) |")
    print("|---|---|---|---|---|")
    for a in attempts:
        at = "" if a.delay_s is None else f"{a.delay_s:.0f}"
        print(f"| {a.round} | {a.kind} | {at} | {a.returncode} | {a.landed_in or '(ran to the end)'} |")
    print("\n| round | lost rows | extra rows | duplicate rows | verdicts differing | LLM asked twice |")
    print("|---|---|---|---|---|---|")
    for c in comparisons:
        print(f"| {c.round} | {c.lost_rows} | {c.extra_rows} | {c.duplicate_rows} | {c.verdicts_differing} "
              f"| {c.repeated_llm_requests} |")  # fmt: skip
        for table, diff in c.tables.items():
            print(f"|   | {table}: {diff} | | | | |")


if __name__ == "__main__":
    main()
