"""`callaudit review`: a reviewer signs in with their own PostgreSQL login, opens an order in review, hears
its recording, overrides rule 4 with a reason, and the next build of the marts shows the decision; the
database keeps the trail (append-only, stamped by it) and the roles apart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from tests.conftest import CliRuns
from tests.test_serve_e2e import ARTIFACTS, browser, free_port

PASSWORD = "review-test-password"
CALLAUDIT = str(Path(sys.executable).with_name("callaudit"))


def _psql(env: dict[str, str], sql: str, *params: object) -> list[dict]:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True, row_factory=dict_row) as conn:
        cursor = conn.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def reviewer(cli_runs: CliRuns) -> str:
    name = f"rev_{uuid.uuid4().hex[:8]}"
    _psql(cli_runs.env, f"create role {name} login password '{PASSWORD}' in role callaudit_reviewer")
    return name


@pytest.fixture(scope="module")
def review_url(cli_runs: CliRuns, tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    log = tmp_path_factory.mktemp("review") / "review.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [CALLAUDIT, "review", "--port", str(port), "--sample", "100"],
            env=cli_runs.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
        try:
            urllib.request.urlopen(f"{url}/login", timeout=2).close()
            break
        except OSError:
            time.sleep(1)
    yield url
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def _order_in_review(env: dict[str, str]) -> dict:
    rows = _psql(
        env,
        """select order_type, order_id, order_key from marts.order_compliance
           where is_review_needed order by order_type, order_id limit 1""",
    )
    assert rows, "the data set has no order in review: pick a seed that gives one"
    return rows[0]


def _rebuild_marts(env: dict[str, str], target: Path) -> None:
    """The next build of the reviewed marts (what the next daily run does), with the project's dbt."""
    from dbt.cli.main import dbtRunner

    from flows.config import get_settings
    from flows.transform import DBT_PROJECT_DIR, dbt_environment, dbt_vars

    with dbt_environment(env["DATABASE_URL"]):
        result = dbtRunner().invoke(
            ["build", "--vars", dbt_vars(get_settings()), "--select", "stg_ops__reviews+",
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(target), "--quiet"]
        )  # fmt: skip
    assert result.success, result.exception


def test_a_reviewer_hears_the_call_overrides_rule_4_and_the_mart_shows_it(
    cli_runs: CliRuns, reviewer: str, review_url: str, tmp_path: Path
) -> None:
    order = _order_in_review(cli_runs.env)
    attempts = _psql(
        cli_runs.env,
        "select call_id, audio_path from marts.call_attempts where order_key = %s and audio_path is not null"
        " order by attempt_number",
        order["order_key"],
    )
    playwright, chromium = browser()
    try:
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{review_url}/login")
        page.fill("input[name=user]", reviewer)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_text("needs review").first.wait_for(timeout=30_000)
        page.click(f"a[href='/orders/{order['order_type']}/{order['order_id']}']")
        page.get_by_text("Attempts", exact=True).wait_for(timeout=30_000)
        assert page.inner_text("#decided-by") == "machine"

        # the player's source is the app's stream of that call's recording, and it serves byte ranges
        sources = page.eval_on_selector_all("audio", "els => els.map(e => e.getAttribute('src'))")
        assert sources == [f"/audio/{a['call_id']}" for a in attempts]
        recording = (cli_runs.data / "audio" / attempts[0]["audio_path"]).read_bytes()
        ranged = page.request.get(f"{review_url}{sources[0]}", headers={"Range": "bytes=0-99"})
        assert ranged.status == 206 and ranged.body() == recording[:100]
        whole = page.request.get(f"{review_url}{sources[0]}")
        assert whole.ok and whole.body() == recording

        # a form posted without the session's CSRF token is refused, and records nothing
        forged = page.request.post(
            f"{review_url}/orders/{order['order_type']}/{order['order_id']}/decisions",
            form={"rule": "outcome", "decision": "fail", "reason": "forged"},
        )
        assert forged.status == 403

        form = page.locator("#decide-outcome")
        form.locator("select[name=decision]").select_option("pass")
        form.locator("input[name=reason]").fill("listened: the customer refuses the installation")
        form.locator("button[type=submit]").click()
        page.locator("#decisions").get_by_text(reviewer).wait_for(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "review-order.png", full_page=True)
    finally:
        chromium.close()
        playwright.stop()

    trail = _psql(
        cli_runs.env,
        "select rule, decision, reviewer, machine_ok, machine_verdict ->> 'is_review_needed' as was_in_review"
        " from ops.reviews where order_type = %s and order_id = %s",
        order["order_type"],
        order["order_id"],
    )
    expected = {"rule": "outcome", "decision": "pass", "reviewer": reviewer, "machine_ok": None}
    assert trail == [{**expected, "was_in_review": "true"}]
    _rebuild_marts(cli_runs.env, tmp_path / "dbt-target")
    [after] = _psql(
        cli_runs.env,
        """select decided_by, is_outcome_ok, is_review_needed, is_machine_outcome_ok, is_second_look_needed
           from marts.order_compliance where order_key = %s""",
        order["order_key"],
    )
    assert after == {
        "decided_by": reviewer,
        "is_outcome_ok": True,
        "is_review_needed": False,
        "is_machine_outcome_ok": None,
        "is_second_look_needed": False,
    }


def test_the_database_keeps_the_roles_apart_and_the_trail_append_only(
    cli_runs: CliRuns, reviewer: str
) -> None:
    login = make_conninfo(cli_runs.env["DATABASE_URL"], user=reviewer, password=PASSWORD)
    with psycopg.connect(login, autocommit=True) as conn:
        for forbidden in ("select * from vault.pii_tokens", "select * from raw.transcripts"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)
        # the database signs the decision, whatever name the client gives
        conn.execute(
            """insert into ops.reviews
                   (order_type, order_id, rule, decision, reason, reviewer, machine_verdict)
               values ('SAV', 'x', 'gap', 'fail', 'signed by someone else?', 'somebody_else', '{}')"""
        )
        assert conn.execute("select reviewer from ops.reviews where order_id = 'x'").fetchone() == (reviewer,)
        for change in ("update ops.reviews set reason = 'changed'", "delete from ops.reviews"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(change)
    with psycopg.connect(cli_runs.env["DATABASE_URL"], autocommit=True) as conn:
        # not even the owner changes a decision: a new one is recorded instead
        for change in ("update ops.reviews set reason = 'changed'", "delete from ops.reviews"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(change)
        conn.execute("set role callaudit_analyst")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from ops.reviews")


def test_a_login_outside_the_reviewer_role_cannot_sign_in(cli_runs: CliRuns, review_url: str) -> None:
    name = f"bi_{uuid.uuid4().hex[:8]}"
    _psql(cli_runs.env, f"create role {name} login password 'x' in role callaudit_analyst")
    request = urllib.request.Request(
        f"{review_url}/login", data=f"user={name}&password=x".encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
