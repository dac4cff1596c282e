"""Orders, planned calls and the audit rules' ground truth. Pure: no I/O, everything from a seeded rng.

One module (about 580 lines): the plan and its ground truth are made together (every call placed and
every rule's expected result computed from the same draw), so the truth cannot drift from the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

BRANCHES: dict[tuple[str, str], str] = {
    ("SAV", "ADSL"): "ADSL_SAV",
    ("SAV", "VULA"): "FTTH_VULA_SAV",
    ("ACQUISITION", "ADSL"): "ADSL_INSTALL",
    ("ACQUISITION", "VULA"): "FTTH_VULA_INSTALL",
}
KINDS: tuple[tuple[str, str], ...] = tuple(BRANCHES)
MOTIF_INTENT: dict[str, int] = {"refuse": 1, "reporte": 2, "absent": 3}
UNANSWERED: tuple[str, ...] = ("no_answer", "voicemail", "unreachable")
UNANSWERED_P: tuple[float, ...] = (0.5, 0.3, 0.2)
OTHER_STATUSES: tuple[str, ...] = ("En cours", "Installé", "Annulé")
MIN_GAP_S = 7200
DAY_START_MIN, DAY_SPAN_MIN = 8 * 60, 12 * 60 - 30  # attempts between 08:00 and 19:30 (+59 s)

# scenario -> (motif_key or "" for a random non-injoignable motif, expected failed rules)
SCENARIOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "inj_compliant": ("injoignable", ()),
    "inj_gap_120": ("injoignable", ()),
    "inj_gap_119": ("injoignable", ("gap",)),
    "inj_gap_121": ("injoignable", ()),
    "inj_two_attempts": ("injoignable", ("attempts",)),
    "inj_wrong_branch": ("injoignable", ("branch",)),
    "inj_before_order": ("injoignable", ("attempts",)),
    "inj_answered": ("injoignable", ("outcome",)),
    "refuse_ok": ("refuse", ()),
    "reporte_ok": ("reporte", ()),
    "absent_ok": ("absent", ()),
    "refuse_intent4": ("refuse", ("outcome",)),
    "no_attempts": ("", ("attempts", "outcome")),
    "late_boundary": ("injoignable", ()),
    "gap119_wrong_branch": ("injoignable", ("branch", "attempts", "gap")),
}
RULES: tuple[str, ...] = ("branch", "attempts", "gap", "outcome", "duplicate")
# Duplicate attempts (issue 6), planned after the scenarios from their own rng stream, in this order
# (the kinds that need an answered original first: they have the fewest candidates).
DUPLICATE_KINDS: tuple[str, ...] = ("reencoded", "other_order", "identical")
DUPLICATE_SHARE = 0.06  # duplicate attempts per order
ALL_KINDS_FROM = 40  # from this many orders on, every duplicate kind appears at least once
SLOT_TRIES = 60


@dataclass(frozen=True)
class Order:
    order_type: str  # ACQUISITION | SAV
    offer: str  # ADSL | VULA
    order_id: str
    client_e164: str
    ordered_on: date
    suspended_on: date
    status: str
    motif_key: str
    scenario: str
    audited: bool

    @property
    def branch(self) -> str:
        return BRANCHES[(self.order_type, self.offer)]


@dataclass
class Call:
    order_id: str  # "" for noise calls
    branch: str
    caller_number: str
    client_e164: str
    start_utc: datetime
    outcome: str
    intent: int  # 0 unless answered
    behaviour: int  # 1 courteous, 0 rude (meaningful when answered)
    order_type: str
    offer: str
    in_window: bool = False
    call_id: str = ""
    duplicate_of: str = ""  # call_id of the original call whose recording this one reuses
    duplicate_kind: str = ""  # identical | reencoded | other_order


@dataclass(frozen=True)
class RuleResult:
    attempts: int
    counted_attempts: int  # attempts that are not duplicates
    branch_ok: bool
    attempts_ok: bool
    gap_ok: bool
    outcome_ok: bool
    duplicate_ok: bool
    duplicates: tuple[str, ...] = ()  # "call_id>original_call_id", in start-time order

    @property
    def oks(self) -> tuple[bool, ...]:
        """The rules' verdicts in RULES order."""
        return (self.branch_ok, self.attempts_ok, self.gap_ok, self.outcome_ok, self.duplicate_ok)

    @property
    def compliant(self) -> bool:
        return all(self.oks)

    @property
    def reasons(self) -> str:
        return ";".join(r for r, ok in zip(RULES, self.oks, strict=True) if not ok)


@dataclass
class Plan:
    orders: list[Order]
    calls: list[Call]
    technicians: dict[str, list[str]]
    results: dict[str, RuleResult]


# ---------------------------------------------------------------- rules


def in_window(start_utc: datetime, ordered_on: date, suspended_on: date, tz: ZoneInfo) -> bool:
    local_day = start_utc.astimezone(tz).date()
    return ordered_on <= local_day <= suspended_on


def evaluate(expected_branch: str, motif_key: str, attempts: list[Call]) -> RuleResult:
    """Apply the audit rules to an order's attempts (calls already filtered to its window).

    Duplicates (calls with duplicate_of set) do not count towards rule 2 and fail the duplicate rule; every
    other rule (branch, gap, outcome) is judged over all attempts, duplicates included.
    """
    atts = sorted(attempts, key=lambda c: c.start_utc)
    branch_ok = all(c.branch == expected_branch for c in atts)
    counted = sum(not c.duplicate_of for c in atts)
    attempts_ok = counted >= (3 if motif_key == "injoignable" else 1)
    gaps = [(b.start_utc - a.start_utc).total_seconds() for a, b in zip(atts, atts[1:], strict=False)]
    gap_ok = all(g >= MIN_GAP_S for g in gaps)
    answered = [c for c in atts if c.outcome == "answered"]
    if motif_key == "injoignable":
        outcome_ok = not answered
    else:
        outcome_ok = any(c.intent == MOTIF_INTENT[motif_key] for c in answered)
    dups = tuple(f"{c.call_id}>{c.duplicate_of}" for c in atts if c.duplicate_of)
    return RuleResult(len(atts), counted, branch_ok, attempts_ok, gap_ok, outcome_ok, not dups, dups)


# ---------------------------------------------------------------- generation helpers


def _national_number(rng: np.random.Generator) -> str:
    return str(rng.choice(["6", "7"])) + "".join(str(d) for d in rng.integers(0, 10, 8))


def _local_to_utc(d: date, minutes: int, seconds: int, tz: ZoneInfo) -> datetime:
    local = datetime.combine(d, time(0), tzinfo=tz) + timedelta(minutes=minutes, seconds=seconds)
    return local.astimezone(UTC)


def _same_day_series(rng: np.random.Generator, d: date, gaps_s: list[int], tz: ZoneInfo) -> list[datetime]:
    """Attempt starts on local day d separated by exact gaps (seconds), all within 08:00-19:30."""
    span_min = sum(gaps_s) // 60 + 1
    first_min = DAY_START_MIN + int(rng.integers(0, max(1, DAY_SPAN_MIN - span_min)))
    t0 = _local_to_utc(d, first_min, int(rng.integers(0, 60)), tz)
    out = [t0]
    for g in gaps_s:
        out.append(out[-1] + timedelta(seconds=g))
    return out


def _random_gaps(rng: np.random.Generator, n: int, budget_min: int = DAY_SPAN_MIN - 60) -> list[int]:
    """n gaps of 130..400 min (capped so that they fit a working day) plus random seconds."""
    if n <= 0:
        return []
    upper = min(400, budget_min // n)
    return [int(rng.integers(130, upper + 1)) * 60 + int(rng.integers(0, 60)) for _ in range(n)]


def _window_day(rng: np.random.Generator, order: Order) -> date:
    span = (order.suspended_on - order.ordered_on).days
    return order.ordered_on + timedelta(days=int(rng.integers(0, span + 1)))


def _unanswered(rng: np.random.Generator) -> str:
    return str(rng.choice(UNANSWERED, p=UNANSWERED_P))


# An attempt spec: (start_utc, wrong_branch, outcome, intent)
Spec = tuple[datetime, bool, str, int]


def _plain(times: list[datetime], rng: np.random.Generator) -> list[Spec]:
    return [(t, False, _unanswered(rng), 0) for t in times]


def _answered_last(rng: np.random.Generator, order: Order, tz: ZoneInfo, intent: int) -> list[Spec]:
    n = int(rng.integers(1, 4))
    times = _same_day_series(rng, _window_day(rng, order), _random_gaps(rng, n - 1), tz)
    specs = _plain(times, rng)
    specs[-1] = (times[-1], False, "answered", intent)
    return specs


def _exact_gap(rng: np.random.Generator, order: Order, tz: ZoneInfo, minutes: int) -> list[Spec]:
    gaps = [minutes * 60, int(rng.integers(130, 300)) * 60 + int(rng.integers(0, 60))]
    if rng.random() < 0.5:
        gaps.reverse()
    return _plain(_same_day_series(rng, _window_day(rng, order), gaps, tz), rng)


def scenario_specs(name: str, rng: np.random.Generator, order: Order, tz: ZoneInfo) -> list[Spec]:
    """Planned calls to the order's client for one scenario."""
    day = _window_day(rng, order)
    if name == "inj_compliant":
        n = int(rng.integers(3, 6))
        return _plain(_same_day_series(rng, day, _random_gaps(rng, n - 1), tz), rng)
    if name in ("inj_gap_120", "inj_gap_119", "inj_gap_121"):
        return _exact_gap(rng, order, tz, int(name[-3:]))
    if name == "inj_two_attempts":
        return _plain(_same_day_series(rng, day, _random_gaps(rng, 1), tz), rng)
    if name == "inj_wrong_branch":
        specs = _plain(_same_day_series(rng, day, _random_gaps(rng, 2), tz), rng)
        k = int(rng.integers(0, 3))
        specs[k] = (specs[k][0], True, specs[k][2], 0)
        return specs
    if name == "inj_before_order":
        before = _same_day_series(rng, order.ordered_on - timedelta(days=1), [], tz)
        return _plain(before + _same_day_series(rng, day, _random_gaps(rng, 1), tz), rng)
    if name == "inj_answered":
        specs = _plain(_same_day_series(rng, day, _random_gaps(rng, 2), tz), rng)
        k = int(rng.integers(0, 3))
        specs[k] = (specs[k][0], False, "answered", int(rng.integers(1, 5)))
        return specs
    if name in ("refuse_ok", "reporte_ok", "absent_ok"):
        return _answered_last(rng, order, tz, MOTIF_INTENT[order.motif_key])
    if name == "refuse_intent4":
        return _answered_last(rng, order, tz, 4)
    if name == "no_attempts":
        return []
    if name == "late_boundary":
        specs = _plain(_same_day_series(rng, day, _random_gaps(rng, 1), tz), rng)
        late = _local_to_utc(order.suspended_on, 23 * 60 + 30, 0, tz)
        after = _local_to_utc(order.suspended_on + timedelta(days=1), 10, 0, tz)
        return specs + _plain([late, after], rng)
    if name == "gap119_wrong_branch":
        specs = _plain(_same_day_series(rng, day, [119 * 60], tz), rng)
        k = int(rng.integers(0, 2))
        specs[k] = (specs[k][0], True, specs[k][2], 0)
        return specs
    if name == "not_audited":
        n = int(rng.integers(0, 4))
        specs = _plain(_same_day_series(rng, day, _random_gaps(rng, max(0, n - 1)), tz), rng)[:n]
        if specs and rng.random() < 0.4:
            specs[-1] = (specs[-1][0], False, "answered", int(rng.integers(1, 5)))
        return specs
    raise ValueError(f"unknown scenario {name!r}")


# ---------------------------------------------------------------- duplicates (issue 6)


def duplicate_kinds(orders: int, count: int | None = None) -> list[str]:
    """The duplicate attempts to plant for a data set of `orders` orders, in planning order.

    `count` asks for that many (cycling through the kinds, so each gets a third); None: the default share,
    at least one of each kind from ALL_KINDS_FROM orders on.
    """
    if count is not None and count < 0:
        raise ValueError(f"duplicates must be >= 0, got {count}")
    n = round(DUPLICATE_SHARE * orders) if count is None else count
    if count is None and orders >= ALL_KINDS_FROM:
        n = max(n, len(DUPLICATE_KINDS))
    # identical first in the cycle so that small data sets still get the simplest kind
    cycle = ("identical", "reencoded", "other_order")
    kinds = [cycle[i % len(cycle)] for i in range(n)]
    return sorted(kinds, key=DUPLICATE_KINDS.index)


@dataclass
class _DupContext:
    rng: np.random.Generator
    tz: ZoneInfo
    techs: dict[str, list[str]]
    audited: list[Order]
    attempts: dict[str, list[Call]]  # in-window attempts per order id
    busy: dict[str, list[datetime]]  # start times of every call per client number
    used: set[str]  # order ids and call ids already part of a duplicate

    def shuffled_orders(self) -> list[Order]:
        return [self.audited[i] for i in self.rng.permutation(len(self.audited))]

    def shuffled(self, calls: list[Call]) -> list[Call]:
        return [calls[i] for i in self.rng.permutation(len(calls))]


def _free_slot(ctx: _DupContext, target: Order, after: datetime) -> datetime | None:
    """A start in the target's window, 08:00-19:30 local, later than `after` and >= 120 min from every call
    to the target's client; None when a few random tries find none."""
    first = max(target.ordered_on, after.astimezone(ctx.tz).date())
    if first > target.suspended_on:
        return None
    span = (target.suspended_on - first).days
    busy = ctx.busy.get(target.client_e164, [])
    for _ in range(SLOT_TRIES):
        d = first + timedelta(days=int(ctx.rng.integers(0, span + 1)))
        minutes = DAY_START_MIN + int(ctx.rng.integers(0, DAY_SPAN_MIN))
        start = _local_to_utc(d, minutes, int(ctx.rng.integers(0, 60)), ctx.tz)
        if start > after and all(abs((start - b).total_seconds()) >= MIN_GAP_S for b in busy):
            return start
    return None


def _duplicate_call(ctx: _DupContext, kind: str, target: Order, original: Call, start: datetime) -> Call:
    """The duplicate attempt: the target's client and branch, the original's recording (so its outcome)."""
    branch = target.branch
    lines = ctx.techs[branch]
    caller = (
        original.caller_number if original.branch == branch else lines[int(ctx.rng.integers(0, len(lines)))]
    )
    return Call(
        target.order_id,
        branch,
        caller,
        target.client_e164,
        start,
        original.outcome,
        original.intent,
        original.behaviour,
        target.order_type,
        target.offer,
        True,
        "",
        original.call_id,
        kind,
    )


def _try_duplicate(ctx: _DupContext, kind: str, target: Order, original: Call) -> Call | None:
    """A duplicate of `original` for `target` that changes none of the target's other rule verdicts."""
    start = _free_slot(ctx, target, original.start_utc)
    if start is None:
        return None
    dup = _duplicate_call(ctx, kind, target, original, start)
    atts = ctx.attempts.get(target.order_id, [])
    before = evaluate(target.branch, target.motif_key, atts)
    after = evaluate(target.branch, target.motif_key, [*atts, dup])
    return dup if _verdicts_but_duplicate(before) == _verdicts_but_duplicate(after) else None


def _verdicts_but_duplicate(r: RuleResult) -> tuple[bool, ...]:
    return r.branch_ok, r.attempts_ok, r.gap_ok, r.outcome_ok


def _originals(ctx: _DupContext, kind: str, target: Order) -> list[Call]:
    """Candidate originals for a duplicate attempt of `kind` planted on `target`."""
    if kind == "other_order":
        pool = [
            c
            for o in ctx.audited
            if o.order_id != target.order_id and o.order_id not in ctx.used
            for c in ctx.attempts.get(o.order_id, [])
            if c.outcome == "answered"
        ]
    else:
        pool = ctx.attempts.get(target.order_id, [])
        if kind == "reencoded":
            pool = [c for c in pool if c.outcome == "answered"]
    return [c for c in pool if c.call_id not in ctx.used]


def _plant(ctx: _DupContext, kind: str) -> Call | None:
    for target in ctx.shuffled_orders():
        if target.order_id in ctx.used:
            continue
        for original in ctx.shuffled(_originals(ctx, kind, target)):
            dup = _try_duplicate(ctx, kind, target, original)
            if dup is not None:
                ctx.used |= {target.order_id, original.order_id, original.call_id}
                ctx.busy.setdefault(target.client_e164, []).append(dup.start_utc)
                return dup
    return None


def plan_duplicates(
    rng: np.random.Generator,
    orders: list[Order],
    calls: list[Call],
    techs: dict[str, list[str]],
    tz: ZoneInfo,
    count: int | None = None,
) -> list[Call]:
    """Duplicate attempts for a few audited orders (originals among `calls`, which carry their call ids).

    Each involves two distinct orders at most (target, and the original's order for other_order) and no
    order or original call takes part in two. The duplicate starts after its original, in the target's
    window, from the target's branch, >= 120 min from every call to the target's client, and changes no rule
    verdict of the target but the duplicate rule. `count`: how many to try (duplicate_kinds); fewer are
    planted when the orders run out of candidates. Returned sorted by start, without call ids.
    """
    attempts: dict[str, list[Call]] = {}
    busy: dict[str, list[datetime]] = {}
    for c in calls:
        busy.setdefault(c.client_e164, []).append(c.start_utc)
        if c.order_id and c.in_window:
            attempts.setdefault(c.order_id, []).append(c)
    audited = sorted((o for o in orders if o.audited), key=lambda o: o.order_id)
    ctx = _DupContext(rng, tz, techs, audited, attempts, busy, set())
    dups = [d for d in (_plant(ctx, kind) for kind in duplicate_kinds(len(orders), count)) if d is not None]
    return sorted(dups, key=lambda c: (c.start_utc, c.client_e164))


def _mark_duplicated(orders: list[Order], dups: list[Call]) -> list[Order]:
    """Orders that received a duplicate attempt get "+dup_<kind>" appended to their scenario name."""
    kind_of = {d.order_id: d.duplicate_kind for d in dups}
    return [
        replace(o, scenario=f"{o.scenario}+dup_{kind_of[o.order_id]}") if o.order_id in kind_of else o
        for o in orders
    ]


# ---------------------------------------------------------------- plan


def _technicians(rng: np.random.Generator, country_code: str) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    used: set[str] = set()
    for branch in BRANCHES.values():
        lines[branch] = []
        while len(lines[branch]) < 3:
            num = country_code + "52" + "".join(str(d) for d in rng.integers(0, 10, 7))
            if num not in used:
                used.add(num)
                lines[branch].append(num)
    return lines


def _order_id(rng: np.random.Generator, order_type: str, used: set[str]) -> str:
    while True:
        oid = (
            f"CMD-{int(rng.integers(0, 10**7)):07d}"
            if order_type == "ACQUISITION"
            else f"TCK{int(rng.integers(0, 10**8)):08d}"
        )
        if oid not in used:
            used.add(oid)
            return oid


def _call_id(day: date, number: int) -> str:
    """The day's call numbering: ids of two days' exports never collide in one warehouse (a call id names
    one call for good; a second data set numbered C000001… again would be quarantined as a collision)."""
    return f"C{day:%Y%m%d}-{number:05d}"


def new_client(rng: np.random.Generator, country_code: str, used: set[str]) -> str:
    while True:
        e164 = country_code + _national_number(rng)
        if e164 not in used:
            used.add(e164)
            return e164


def build_plan(
    orders: int,
    seed: int,
    day: date,
    tz_name: str,
    country_code: str,
    duplicates: bool = True,
    duplicate_count: int | None = None,
) -> Plan:
    """Orders, calls (with call ids) and ground-truth rule results, fully determined by the inputs.

    Calls are sorted by start, then the duplicate attempts follow (sorted by start, call ids continuing),
    planned from their own rng stream so that every other order and call is the same without them.
    `duplicate_count` asks for that many duplicate attempts instead of the default share.
    """
    tz = ZoneInfo(tz_name)
    rng = np.random.default_rng([seed, day.toordinal(), orders])
    techs = _technicians(rng, country_code)
    ids: set[str] = set()
    clients: set[str] = set()
    kinds = [KINDS[int(rng.integers(0, len(KINDS)))] for _ in range(orders)]
    skeleton = [(t, o, _order_id(rng, t, ids), new_client(rng, country_code, clients)) for t, o in kinds]
    order_ids = [s[2] for s in skeleton]
    rng.shuffle(order_ids)
    n_not_audited = orders // 10
    n_audited = orders - n_not_audited
    names = list(SCENARIOS)
    scenario_of = {
        oid: names[i % len(names)] if i < n_audited else "not_audited" for i, oid in enumerate(order_ids)
    }

    result_orders: list[Order] = []
    calls: list[Call] = []
    for order_type, offer, oid, client in skeleton:
        scen = scenario_of[oid]
        if scen == "not_audited":
            motif = str(rng.choice(["injoignable", "refuse", "reporte", "absent"]))
            status = str(rng.choice(OTHER_STATUSES))
        else:
            motif = SCENARIOS[scen][0] or str(rng.choice(list(MOTIF_INTENT)))
            status = "Suspendu"
        ordered_on = day - timedelta(days=int(rng.integers(2, 11)))
        order = Order(
            order_type, offer, oid, client, ordered_on, day, status, motif, scen, scen != "not_audited"
        )
        result_orders.append(order)
        for start, wrong, outcome, intent in scenario_specs(scen, rng, order, tz):
            branch = order.branch
            if wrong:
                others = [b for b in BRANCHES.values() if b != branch]
                branch = others[int(rng.integers(0, len(others)))]
            caller = techs[branch][int(rng.integers(0, len(techs[branch])))]
            behaviour = int(rng.random() >= 0.25)
            calls.append(
                Call(
                    oid,
                    branch,
                    caller,
                    client,
                    start,
                    outcome,
                    intent,
                    behaviour,
                    order_type,
                    offer,
                    in_window(start, ordered_on, day, tz),
                )
            )

    for _ in range(max(1, round(0.05 * len(calls)))):
        order_type, offer = KINDS[int(rng.integers(0, len(KINDS)))]
        branch = BRANCHES[(order_type, offer)]
        d = day - timedelta(days=int(rng.integers(0, 11)))
        start = _same_day_series(rng, d, [], tz)[0]
        outcome = str(rng.choice(("no_answer", "voicemail", "unreachable", "answered")))
        intent = int(rng.integers(1, 5)) if outcome == "answered" else 0
        calls.append(
            Call(
                "",
                branch,
                techs[branch][int(rng.integers(0, 3))],
                new_client(rng, country_code, clients),
                start,
                outcome,
                intent,
                int(rng.random() >= 0.25),
                order_type,
                offer,
                False,
            )
        )

    calls.sort(key=lambda c: (c.start_utc, c.client_e164))
    for i, c in enumerate(calls, start=1):
        c.call_id = _call_id(day, i)
    if duplicates:
        dup_rng = np.random.default_rng([seed, day.toordinal(), orders, 6])
        dups = plan_duplicates(dup_rng, result_orders, calls, techs, tz, duplicate_count)
        for i, c in enumerate(dups, start=len(calls) + 1):
            c.call_id = _call_id(day, i)
        calls.extend(dups)
        result_orders = _mark_duplicated(result_orders, dups)

    by_order: dict[str, list[Call]] = {}
    for c in calls:
        if c.order_id and c.in_window:
            by_order.setdefault(c.order_id, []).append(c)
    results = {
        o.order_id: evaluate(o.branch, o.motif_key, by_order.get(o.order_id, []))
        for o in result_orders
        if o.audited
    }
    result_orders.sort(key=lambda o: (o.order_type, o.offer, o.order_id))
    return Plan(result_orders, calls, techs, results)
