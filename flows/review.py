"""`callaudit review`: where a person decides what the machine could not, with an audit trail.

A small server-rendered web application (Starlette, which Prefect already brings; Jinja2 templates in
``flows/review_templates``; no JavaScript build) on 127.0.0.1 by default:

- ``/login``: a reviewer signs in with their own PostgreSQL login, a member of ``callaudit_reviewer``
  (``create role alice login password '…' in role callaudit_reviewer``). Every query of their session runs
  on a connection opened as them, so the database decides what they may do (sql/010_reviews.sql): read the
  marts and the evidence, record decisions — never the vault or the unredacted transcripts — and it stamps
  who decided and when.
- ``/``: the queue — orders in ``is_review_needed`` or flagged for a second look first, then a sample of the
  machine's decided orders (``--sample``, by a hash of the order key: the same orders on every visit), to be
  filtered by day, branch, motif and technician line.
- ``/orders/<type>/<id>``: rules and verdict, each attempt with its outcome, tones, redacted transcript,
  call type and an ``<audio>`` player streamed by the app (folder or S3, range requests), earlier
  decisions, and a form to confirm, pass or fail a rule with a mandatory reason.

Sessions are kept in this process's memory (a random id in an HttpOnly, SameSite=Strict cookie; the
password never leaves the server): a restart signs everyone out. Every form carries the session's CSRF
token and a POST without it is refused. Decisions go to ``ops.reviews`` (append-only); the next dbt build
shows them in ``marts.order_compliance`` (``decided_by``, ``is_machine_compliant``,
``is_second_look_needed``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from flows.config import Settings
from flows.storage import AudioRoots

REVIEWER_ROLE = "callaudit_reviewer"
RULES = ("branch", "attempts", "gap", "outcome", "duplicates")
_RULE_OK = {rule: f"{'duplicate' if rule == 'duplicates' else rule}_ok" for rule in RULES}
# the order_compliance columns holding each rule's decided value and the machine's own value
RULE_COLUMN = {rule: f"is_{ok}" for rule, ok in _RULE_OK.items()}
MACHINE_COLUMN = {rule: f"is_machine_{ok}" for rule, ok in _RULE_OK.items()}
DECISIONS = ("confirm", "pass", "fail")
COOKIE = "callaudit_review"
AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg"}
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("review_templates")))


@dataclass
class Session:
    user: str
    conninfo: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))


@dataclass
class ReviewApp:
    """The application's state: the warehouse to sign in to, the settings, the open sessions."""

    database_url: str
    settings: Settings
    sample_pct: int = 5
    sessions: dict[str, Session] = field(default_factory=dict)

    def login_conninfo(self, user: str, password: str) -> str:
        """The warehouse's connection string with the reviewer's own login."""
        params = conninfo_to_dict(self.database_url)
        params.update(user=user, password=password)
        return make_conninfo(**params)

    def session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE, ""))


def _connect(session: Session) -> psycopg.Connection:
    return psycopg.connect(session.conninfo, row_factory=dict_row, connect_timeout=10)


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    """The fields of an urlencoded form. Starlette's ``request.form()`` needs python-multipart for every
    form; these pages only post short urlencoded fields, which the standard library parses."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _refuse_without_csrf(session: Session, form: Any) -> Response | None:
    token = str(form.get("csrf", ""))
    if not token or not secrets.compare_digest(token, session.csrf):
        return Response("refused: the form's CSRF token is missing or wrong; reload the page", 403)
    return None


# ----------------------------------------------------------------------------------------- sign-in


async def login_page(request: Request) -> Response:
    return _page(request, "login.html", error=None)


async def login(request: Request) -> Response:
    app: ReviewApp = request.app.state.review
    form = await _form(request)
    user, password = str(form.get("user", "")).strip(), str(form.get("password", ""))
    conninfo = app.login_conninfo(user, password)
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as conn:
            member = conn.execute(
                "select pg_has_role(session_user, %s, 'member')", [REVIEWER_ROLE]
            ).fetchone()[0]
    except psycopg.Error:
        return _page(request, "login.html", 401, error="Sign-in failed: check the login and password.")
    if not member:
        return _page(request, "login.html", 403, error=f"{user} is not a member of {REVIEWER_ROLE}.")
    session_id = secrets.token_urlsafe(32)
    app.sessions[session_id] = Session(user, conninfo)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="strict")
    return response


async def logout(request: Request) -> Response:
    app: ReviewApp = request.app.state.review
    session = app.session(request)
    if session:
        refused = _refuse_without_csrf(session, await _form(request))
        if refused:
            return refused
        app.sessions.pop(request.cookies.get(COOKIE, ""), None)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


# ----------------------------------------------------------------------------------------- pages

QUEUE_SQL = """
select order_type, order_id, motif_key, expected_branch, suspended_on, attempts, is_compliant,
       is_machine_compliant, is_review_needed, review_reason, is_second_look_needed, decided_by, reasons_text
from marts.order_compliance o
where (%(day)s::date is null or listed_on = %(day)s)
  and (%(branch)s::text is null or expected_branch = %(branch)s)
  and (%(motif)s::text is null or motif_key = %(motif)s)
  and (%(line)s::text is null or exists (
        select from marts.call_attempts a where a.order_key = o.order_key and a.caller_number = %(line)s))
  and (is_review_needed or is_second_look_needed or abs(hashtext(order_key)) %% 100 < %(sample_pct)s)
order by (is_review_needed or is_second_look_needed) desc, suspended_on desc, order_type, order_id
limit 500
"""


async def queue(request: Request) -> Response:
    app: ReviewApp = request.app.state.review
    session = app.session(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    q = request.query_params
    day = q.get("day") or None
    filters = {
        "day": dt.date.fromisoformat(day) if day else None,
        "branch": q.get("branch") or None,
        "motif": q.get("motif") or None,
        "line": q.get("line") or None,
        "sample_pct": app.sample_pct,
    }
    with _connect(session) as conn:
        orders = conn.execute(QUEUE_SQL, filters).fetchall()
    return _page(request, "queue.html", session=session, orders=orders, q=q, sample_pct=app.sample_pct)


async def order_page(request: Request) -> Response:
    app: ReviewApp = request.app.state.review
    session = app.session(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    key = (request.path_params["order_type"], request.path_params["order_id"])
    with _connect(session) as conn:
        order = conn.execute(
            "select * from marts.order_compliance where order_type = %s and order_id = %s", key
        ).fetchone()
        if order is None:
            return _page(request, "missing.html", 404, session=session, what=f"order {key[0]} {key[1]}")
        attempts = conn.execute(
            "select * from marts.call_attempts where order_key = %s order by attempt_number, call_id",
            [order["order_key"]],
        ).fetchall()
        for attempt in attempts:
            attempt["tones"] = conn.execute(
                """select kind, round(start_s::numeric, 1) as start_s, round(end_s::numeric, 1) as end_s,
                          round(frequency_hz::numeric) as hz
                   from raw.audio_tones where sha256 = %s and detector_version = %s order by start_s""",
                [attempt["audio_sha256"], attempt["detector_version"]],
            ).fetchall()
        reviews = conn.execute(
            """select rule, decision, reason, reviewer, reviewed_at, machine_ok from ops.reviews
               where order_type = %s and order_id = %s order by reviewed_at desc, review_id desc""",
            key,
        ).fetchall()
    return _page(
        request,
        "order.html",
        session=session,
        order=order,
        attempts=attempts,
        reviews=reviews,
        rules=RULES,
        rule_column=RULE_COLUMN,
        machine_column=MACHINE_COLUMN,
        error=request.query_params.get("error"),
    )


async def decide(request: Request) -> Response:
    """Record one decision on one rule of one order (ops.reviews, as the signed-in reviewer)."""
    app: ReviewApp = request.app.state.review
    session = app.session(request)
    if session is None:
        return Response("sign in first", status_code=401)
    form = await _form(request)
    refused = _refuse_without_csrf(session, form)
    if refused:
        return refused
    order_type, order_id = request.path_params["order_type"], request.path_params["order_id"]
    back = f"/orders/{order_type}/{order_id}"
    rule, decision, reason = str(form.get("rule")), str(form.get("decision")), str(form.get("reason", ""))
    if rule not in RULES or decision not in DECISIONS:
        return Response(f"unknown rule {rule!r} or decision {decision!r}", status_code=400)
    if len(reason.strip()) < 3:
        return RedirectResponse(f"{back}?error=a+reason+is+required", status_code=303)
    with _connect(session) as conn:
        order = conn.execute(
            "select to_jsonb(o) as row from marts.order_compliance o where order_type = %s and order_id = %s",
            [order_type, order_id],
        ).fetchone()
        if order is None:
            return Response("no such order", status_code=404)
        machine_ok = order["row"].get(MACHINE_COLUMN[rule])
        if decision == "confirm" and machine_ok is None:
            return RedirectResponse(
                f"{back}?error=the+machine+did+not+decide+this+rule:+pass+or+fail+it", status_code=303
            )
        conn.execute(
            """insert into ops.reviews
                   (order_type, order_id, rule, decision, reason, reviewer, machine_ok, machine_verdict)
               values (%s, %s, %s, %s, %s, session_user, %s, %s)""",
            [order_type, order_id, rule, decision, reason.strip(), machine_ok, Jsonb(order["row"])],
        )
    return RedirectResponse(back, status_code=303)


async def audio(request: Request) -> Response:
    """The recording of one call, streamed with range requests (the ``<audio>`` element seeks with them)."""
    app: ReviewApp = request.app.state.review
    session = app.session(request)
    if session is None:
        return Response("sign in first", status_code=401)
    with _connect(session) as conn:
        row = conn.execute(
            """select f.audio_root, f.audio_path, f.etag, f.size_bytes
               from marts.call_attempts a join raw.audio_files f on f.audio_path = a.audio_path
               where a.call_id = %s limit 1""",
            [request.path_params["call_id"]],
        ).fetchone()
    if row is None:
        return Response("no recording for this call", status_code=404)
    path = AudioRoots(app.settings).local_path(
        row["audio_root"], row["audio_path"], row["etag"], row["size_bytes"]
    )
    return FileResponse(path, media_type=AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream"))


def create_app(database_url: str, settings: Settings, sample_pct: int = 5) -> Starlette:
    app = Starlette(
        routes=[
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/", queue, methods=["GET"]),
            Route("/orders/{order_type}/{order_id}", order_page, methods=["GET"]),
            Route("/orders/{order_type}/{order_id}/decisions", decide, methods=["POST"]),
            Route("/audio/{call_id}", audio, methods=["GET"]),
        ]
    )
    app.state.review = ReviewApp(database_url, settings, sample_pct)
    return app
