"""Writing the data set: manifests (CSV/XLSX), calls.csv and the ground-truth files."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from openpyxl import Workbook

from synth.manifests import ManifestFile, format_number
from synth.render import RenderedCall
from synth.scenarios import Call, Order, RuleResult

CALLS_HEADER = (
    "call_id",
    "branch",
    "caller_number",
    "client_number",
    "start_time",
    "duration_s",
    "audio_path",
)
TRUTH_CALLS_HEADER = (
    "call_id",
    "order_id",
    "in_window",
    "outcome",
    "intent",
    "behaviour",
    "ring_bursts",
    "voicemail_beeps",
    "sit_tones",
    "speech_onset_s",
    "sample_rate",
    "channels",
    "subtype",
    "format",
    "snr_db",
    "duration_s",
    "transcript",
    "duplicate_of",
    "duplicate_kind",
    "speech_spans",
    "qa_items",
)
TRUTH_ORDERS_HEADER = (
    "order_type",
    "offer",
    "order_id",
    "client_number",
    "ordered_on",
    "suspended_on",
    "status",
    "motif_key",
    "audited",
    "scenario",
    "attempts",
    "counted_attempts",
    "branch_ok",
    "attempts_ok",
    "gap_ok",
    "outcome_ok",
    "duplicate_ok",
    "compliant",
    "reasons",
    "duplicates",
)


def _b(v: bool) -> str:
    return "true" if v else "false"


def write_manifest(mf: ManifestFile, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / mf.name
    if mf.is_xlsx:
        wb = Workbook()
        ws = wb.active
        ws.title = "Export"
        ws.append(list(mf.header))
        for row in mf.rows:
            ws.append(row)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, datetime):
                    cell.number_format = "DD/MM/YYYY"
        wb.save(path)
        return
    acq_adsl = mf.offer == "ADSL"
    encoding, sep = ("cp1252", ";") if acq_adsl else ("utf-8-sig", ",")
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(mf.header)
        w.writerows(mf.rows)


def write_rejects(files: list[ManifestFile], truth: Path) -> int:
    rows = sorted((mf.name, r, why) for mf in files for r, why in mf.rejects)
    with (truth / "rejects.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("file", "row", "reason"))
        w.writerows(rows)
    return len(rows)


def write_calls(
    calls: list[Call],
    rendered: dict[str, RenderedCall],
    out: Path,
    tz: ZoneInfo,
    country_code: str,
    rng: np.random.Generator,
) -> None:
    with (out / "calls.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CALLS_HEADER)
        for c in calls:
            r = rendered[c.call_id]
            start = c.start_utc.astimezone(UTC if rng.random() < 0.3 else tz)
            number = (
                format_number(c.client_e164, country_code, rng)
                if rng.random() < 0.4
                else ("0" + c.client_e164[len(country_code) :])
            )
            w.writerow(
                (
                    c.call_id,
                    c.branch,
                    c.caller_number,
                    number,
                    start.isoformat(timespec="seconds"),
                    f"{r.duration_s:.2f}",
                    r.audio_path,
                )
            )


def write_truth_calls(calls: list[Call], rendered: dict[str, RenderedCall], truth: Path) -> None:
    with (truth / "calls.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TRUTH_CALLS_HEADER)
        for c in calls:
            r = rendered[c.call_id]
            answered = c.outcome == "answered"
            w.writerow(
                (
                    c.call_id,
                    c.order_id,
                    _b(c.in_window),
                    c.outcome,
                    c.intent if answered else 0,
                    c.behaviour if answered else "",
                    json.dumps(r.ring_bursts),
                    json.dumps(r.voicemail_beeps),
                    json.dumps(r.sit_tones),
                    "" if r.speech_onset_s is None else r.speech_onset_s,
                    r.sample_rate,
                    r.channels,
                    r.subtype,
                    r.format,
                    r.snr_db,
                    r.duration_s,
                    r.transcript,
                    c.duplicate_of,
                    c.duplicate_kind,
                    json.dumps(r.speech_spans),
                    json.dumps(r.qa_items) if r.qa_items else "",
                )
            )


def write_truth_orders(orders: list[Order], results: dict[str, RuleResult], truth: Path) -> None:
    with (truth / "orders.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TRUTH_ORDERS_HEADER)
        for o in orders:
            head = (
                o.order_type,
                o.offer,
                o.order_id,
                o.client_e164,
                o.ordered_on.isoformat(),
                o.suspended_on.isoformat(),
                o.status,
                o.motif_key,
                _b(o.audited),
                o.scenario,
            )
            res = results.get(o.order_id)
            w.writerow(
                head + (("",) * (len(TRUTH_ORDERS_HEADER) - len(head)) if res is None else _rules(res))
            )


def _rules(res: RuleResult) -> tuple[object, ...]:
    return (
        res.attempts,
        res.counted_attempts,
        _b(res.branch_ok),
        _b(res.attempts_ok),
        _b(res.gap_ok),
        _b(res.outcome_ok),
        _b(res.duplicate_ok),
        _b(res.compliant),
        res.reasons,
        ";".join(res.duplicates),
    )


README = """# Ground truth of the synthetic callaudit data set

Generated by `python -m synth` for day {day} (timezone {tz}, country code {cc}, seed {seed}).

## orders.csv - one row per distinct manifest order (duplicates merged, malformed rows excluded)
order_type (ACQUISITION|SAV), offer (ADSL|VULA), order_id, client_number (E.164 digits, no +),
ordered_on / suspended_on (ISO dates), status, motif_key (injoignable|refuse|reporte|absent),
audited (status Suspendu), scenario (generator scenario; an order that received a duplicate attempt has
"+dup_<kind>" appended, e.g. inj_compliant+dup_identical), then only for audited orders:
attempts (calls to the client whose local start day is within [ordered_on, suspended_on], duplicates
included), counted_attempts (attempts that are not duplicates: duplicate_of empty in calls.csv),
branch_ok (every attempt), attempts_ok (counted_attempts >= 3 for injoignable, >= 1 otherwise),
gap_ok (consecutive attempts >= 7200 s apart, duplicates included),
outcome_ok (injoignable: no answered attempt; refuse/reporte/absent: an answered attempt with intent 1/2/3;
over all attempts, duplicates included: a duplicate is still evidence of what was heard),
duplicate_ok (no attempt is a duplicate), compliant (all five),
reasons (failed rules among branch;attempts;gap;outcome;duplicate, in that order),
duplicates (';'-joined call_id>original_call_id pairs of the order's duplicate attempts, in start order;
empty when none).

## calls.csv - one row per call of ../calls.csv
call_id, order_id (empty for noise calls to numbers of no order), in_window (the call's local day is in its
order's window), outcome (no_answer|voicemail|unreachable|answered), intent (0 unless answered;
1 refuses, 2 reschedules, 3 absent, 4 other/agrees), behaviour (answered only: 1 courteous, 0 rude),
ring_bursts / voicemail_beeps / sit_tones (JSON arrays of [start_s, end_s, freq_hz]),
speech_onset_s (first speech sample after the last tone; empty when none), sample_rate, channels
(stereo: channel 0 agent, channel 1 customer/network, tones on both), subtype (PCM_16|ULAW),
format (WAV|FLAC), snr_db (additive noise vs active signal power), duration_s, transcript (spoken text),
duplicate_of (call_id of the original call whose recording this call reuses; empty otherwise),
duplicate_kind (identical|reencoded|other_order; empty otherwise), speech_spans (JSON array of
[start_s, end_s, party] of every utterance, in time order: party 0 the agent, 1 the customer, a voicemail
greeting or the network's announcement; each span from its first to its last audible sample),
qa_items (answered calls of a phrasebank with QA truth: JSON object, each item of the QA scorecard -
greeting, names_self, names_company, refers_to_order, states_purpose, new_slot_named,
availability_confirmed, polite_close - as met, not_met or not_applicable, from what the call's lines say).

## Duplicate attempts
A few audited orders (about 6% of the orders; each kind at least once from 40 orders on) get one extra
attempt whose recording is another call's: the call ids of these follow those of every other call, in
start order, and the rows come last in ../calls.csv. The original is the earliest call carrying the
conversation; the duplicate starts after it, in its own order's window, from the right branch and at least
7200 s from every other call to its client, so it changes no verdict of its order but duplicate_ok.
- identical: a byte-identical copy, under another file name, of an earlier attempt of the same order.
- reencoded: the same recording of an earlier answered attempt of the same order, re-encoded (another
  format, subtype and/or sample rate among WAV/ULAW/8000, FLAC/PCM_16/8000, WAV/PCM_16/16000) at a gain of
  0.5-0.8: other bytes, same conversation (same transcript and tones; duration within 1 ms).
- other_order: a byte-identical copy of an answered attempt of another order (another client), claimed as
  an attempt of this order.
The acoustic columns of a duplicate (tones, onset, transcript, snr_db) are its original's.

## rejects.csv - malformed manifest rows injected on purpose
file, row (1-based data row, header excluded), reason (empty_order_id|bad_date|bad_client_number).
"""


def write_readme(truth: Path, day: date, tz: str, country_code: str, seed: int) -> None:
    (truth / "README.md").write_text(
        README.format(day=day.isoformat(), tz=tz, cc=country_code, seed=seed), encoding="utf-8"
    )
