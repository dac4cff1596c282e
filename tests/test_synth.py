"""Tests for the synthetic data generator (real files, independent recomputation of the truth)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from synth import SynthSummary, generate
from synth.audio import mulaw_roundtrip
from synth.render import DuplicateJob, RenderedCall, copy_recording
from synth.scenarios import (
    DUPLICATE_KINDS,
    RULES,
    SCENARIOS,
    Call,
    build_plan,
    duplicate_kinds,
    evaluate,
    in_window,
)

DAY = date(2026, 11, 18)
TZ = ZoneInfo("Africa/Casablanca")
CC = "212"
ACQ_HEADER = [
    "N° Commande",
    "Numéro Client",
    "Date Commande",
    "Date Suspension",
    "Statut",
    "Motif Suspension",
    "Offre",
]
SAV_HEADER = ["Num Ticket", "MSISDN", "Date Création", "Date Suspension", "Etat", "Motif", "Offre"]
EXPECTED_BRANCH = {
    ("SAV", "ADSL"): "ADSL_SAV",
    ("SAV", "VULA"): "FTTH_VULA_SAV",
    ("ACQUISITION", "ADSL"): "ADSL_INSTALL",
    ("ACQUISITION", "VULA"): "FTTH_VULA_INSTALL",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("synth_a")
    return out, generate(out, orders=20, seed=11, day=DAY, progress=False, workers=2)


def _csv(path: Path, encoding: str = "utf-8", sep: str = ",") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh, delimiter=sep))


def _e164(raw: str) -> str:
    digits = re.sub(r"\D", "", str(raw))
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("0"):
        return CC + digits[1:]
    return digits if digits.startswith(CC) and len(digits) == 12 else CC + digits


def _b(s: str) -> bool:
    assert s in ("true", "false")
    return s == "true"


def test_summary_counts(data: tuple[Path, SynthSummary]) -> None:
    out, s = data
    assert s.orders == 20 and s.audited_orders == 18
    assert s.calls == s.audio_files == len(_csv(out / "calls.csv"))
    assert s.malformed_rows == len(_csv(out / "truth" / "rejects.csv")) == 3
    assert s.seconds_of_audio > 8 * s.calls
    assert s.duplicate_calls == 1  # round(6% of 20 orders)


def test_manifest_names_and_headers(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    names = sorted(p.name for p in (out / "manifests").iterdir())
    assert names == [
        f"{t}_{o}_20261118.{'xlsx' if t == 'SAV' else 'csv'}"
        for t in ("ACQUISITION", "SAV")
        for o in ("ADSL", "VULA")
    ]
    for name in names:
        assert re.fullmatch(r"(ACQUISITION|SAV)_(ADSL|VULA)_\d{8}\.(csv|xlsx)", name)
    adsl = (out / "manifests" / names[0]).read_bytes().decode("cp1252").splitlines()[0]
    assert adsl == ";".join(ACQ_HEADER)
    vula = (out / "manifests" / names[1]).read_text(encoding="utf-8-sig").splitlines()[0]
    assert vula == ",".join(ACQ_HEADER)
    for name in names[2:]:
        ws = openpyxl.load_workbook(out / "manifests" / name).active
        assert [c.value for c in ws[1]] == SAV_HEADER


def test_rejects_point_at_malformed_rows(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    for rej in _csv(out / "truth" / "rejects.csv"):
        path = out / "manifests" / rej["file"]
        n = int(rej["row"])
        if path.suffix == ".xlsx":
            row = [c.value for c in openpyxl.load_workbook(path).active[n + 1]]
        else:
            enc, sep = ("cp1252", ";") if "ADSL" in path.name else ("utf-8-sig", ",")
            with path.open(encoding=enc, newline="") as fh:
                row = list(csv.reader(fh, delimiter=sep))[n]
        if rej["reason"] == "empty_order_id":
            assert row[0] in ("", None)
        elif rej["reason"] == "bad_client_number":
            assert row[1] == "n/a"
        else:
            assert rej["reason"] == "bad_date" and row[2] in ("hier", "31/02/2026", "00/13/2026")


def test_calls_csv_times_and_audio(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    calls = _csv(out / "calls.csv")
    truth = {r["call_id"]: r for r in _csv(out / "truth" / "calls.csv")}
    offsets = set()
    for c in calls:
        start = datetime.fromisoformat(c["start_time"])
        assert start.tzinfo is not None
        offsets.add(start.utcoffset())
        t = truth[c["call_id"]]
        path = out / "audio" / c["audio_path"]
        assert path.is_file() and not Path(c["audio_path"]).is_absolute()
        info = sf.info(path)
        assert info.samplerate == int(t["sample_rate"]) and info.channels == int(t["channels"])
        assert info.subtype == t["subtype"] and info.format == t["format"]
        assert abs(info.duration - float(c["duration_s"])) < 0.01
        assert 8.0 <= info.duration <= 35.5
    assert timedelta(0) in offsets and timedelta(hours=1) in offsets


def _band_db(x: np.ndarray, rate: int, f: float) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1.0 / rate)
    band = spec[(freqs > f - 20) & (freqs < f + 20)].sum()
    return float(10 * np.log10(band / spec.sum() + 1e-12))


def test_ring_bursts_match_audio(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    calls = {r["call_id"]: r for r in _csv(out / "calls.csv")}
    checked = 0
    for t in _csv(out / "truth" / "calls.csv"):
        if t["outcome"] != "no_answer":
            continue
        x, rate = sf.read(out / "audio" / calls[t["call_id"]]["audio_path"], always_2d=True)
        x = x.mean(axis=1)
        bursts = json.loads(t["ring_bursts"])
        assert 2 <= len(bursts) <= 7 and t["speech_onset_s"] == ""
        freq = bursts[0][2]
        assert 415 <= freq <= 450
        # independent detection: 100 ms frames whose energy is dominated by the ring frequency
        hop = rate // 10
        on = "".join(
            "1" if _band_db(x[i : i + hop], rate, freq) > -6 else "0" for i in range(0, x.size - hop, hop)
        )
        runs = len([r for r in on.split("0") if len(r) >= 3])
        assert runs == len(bursts), t["call_id"]
        for (s, e, _), (s2, _, _) in zip(bursts, bursts[1:], strict=False):
            burst = x[int(s * rate) + 80 : int(e * rate) - 80]
            gap = x[int(e * rate) + 400 : int(s2 * rate) - 400]
            assert _band_db(burst, rate, freq) > _band_db(gap, rate, freq) + 10
        checked += 1
    assert checked >= 3


def test_speech_onset_is_louder_than_before(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    calls = {r["call_id"]: r for r in _csv(out / "calls.csv")}
    for t in _csv(out / "truth" / "calls.csv"):
        if t["outcome"] not in ("answered", "unreachable"):
            continue
        x, rate = sf.read(out / "audio" / calls[t["call_id"]]["audio_path"], always_2d=True)
        x = x.mean(axis=1)
        k = int(float(t["speech_onset_s"]) * rate)
        w = rate // 5
        before, after = x[k - w : k], x[k : k + 2 * w]
        assert np.mean(after**2) > 2 * np.mean(before**2), t["call_id"]
        assert t["transcript"]


def test_qa_truth_follows_what_each_answered_call_says(data: tuple[Path, SynthSummary]) -> None:
    """truth qa_items: every answered call rates each QA item; a courteous technician greets, names himself
    and closes politely, a rude one does none of it; the slot item applies to rescheduling calls and the
    presence item to calls that go ahead; calls without a conversation have no scorecard."""
    from synth.qa import QA_ITEMS

    out, _ = data
    seen = set()
    for t in _csv(out / "truth" / "calls.csv"):
        if t["outcome"] != "answered":
            assert t["qa_items"] == "", t["call_id"]
            continue
        qa = json.loads(t["qa_items"])
        assert list(qa) == list(QA_ITEMS)
        courteous = t["behaviour"] == "1"
        for item in ("greeting", "names_self", "polite_close"):
            assert qa[item] == ("met" if courteous else "not_met"), (t["call_id"], item)
            seen.add((item, qa[item]))
        assert (qa["new_slot_named"] != "not_applicable") == (t["intent"] == "2")
        assert (qa["availability_confirmed"] != "not_applicable") == (t["intent"] == "4")
        assert qa["refers_to_order"] == "met" and qa["names_company"] == "met"
    assert {("names_self", "met"), ("names_self", "not_met")} <= seen


def test_speech_spans_place_each_utterance_on_its_party(data: tuple[Path, SynthSummary]) -> None:
    """truth speech_spans: one span per utterance, in time order, the onset being the first one after the
    tones; in a stereo recording each on its party's channel (the other silent but for noise)."""
    out, _ = data
    calls = {r["call_id"]: r for r in _csv(out / "calls.csv")}
    for t in _csv(out / "truth" / "calls.csv"):
        spans = json.loads(t["speech_spans"])
        assert bool(spans) == bool(t["transcript"]), t["call_id"]
        assert spans == sorted(spans) and all(s < e and p in (0, 1) for s, e, p in spans)
        assert all(e <= s2 for (_, e, _), (s2, _, _) in zip(spans, spans[1:], strict=False))
        if t["speech_onset_s"]:
            assert float(t["speech_onset_s"]) in [s for s, _, _ in spans]
        if t["channels"] != "2" or t["duplicate_kind"] == "reencoded":
            continue
        x, rate = sf.read(out / "audio" / calls[t["call_id"]]["audio_path"], always_2d=True)
        for start, end, party in spans:
            power = (x[int(start * rate) : int(end * rate)] ** 2).mean(axis=0)
            assert power[party] > 10 * power[1 - party], (t["call_id"], start, party)


def _base_scenario(scenario: str) -> tuple[str, str]:
    """("inj_compliant+dup_identical") -> ("inj_compliant", "identical"); no suffix -> (name, "")."""
    base, _, kind = scenario.partition("+dup_")
    return base, kind


def _check_rules(out: Path, tz: ZoneInfo = TZ) -> None:
    """Recompute every audited order's verdicts from calls.csv (+ truth outcome/intent/duplicate_of)."""
    truth_calls = {r["call_id"]: r for r in _csv(out / "truth" / "calls.csv")}
    by_client: dict[str, list[tuple[datetime, str, str, int, str, str]]] = {}
    for c in _csv(out / "calls.csv"):
        t = truth_calls[c["call_id"]]
        by_client.setdefault(_e164(c["client_number"]), []).append(
            (
                datetime.fromisoformat(c["start_time"]),
                c["branch"],
                t["outcome"],
                int(t["intent"]),
                c["call_id"],
                t["duplicate_of"],
            )
        )
    for o in _csv(out / "truth" / "orders.csv"):
        if not _b(o["audited"]):
            assert o["status"] != "Suspendu" and o["compliant"] == "" and o["reasons"] == ""
            assert o["counted_attempts"] == o["duplicate_ok"] == o["duplicates"] == ""
            continue
        first, last = date.fromisoformat(o["ordered_on"]), date.fromisoformat(o["suspended_on"])
        atts = sorted(
            a for a in by_client.get(o["client_number"], []) if first <= a[0].astimezone(tz).date() <= last
        )
        dups = [a for a in atts if a[5]]
        counted = len(atts) - len(dups)
        expected = EXPECTED_BRANCH[(o["order_type"], o["offer"])]
        branch_ok = all(a[1] == expected for a in atts)
        attempts_ok = counted >= (3 if o["motif_key"] == "injoignable" else 1)
        gap_ok = all((b[0] - a[0]).total_seconds() >= 7200 for a, b in zip(atts, atts[1:], strict=False))
        answered = [a for a in atts if a[2] == "answered"]
        want = {"refuse": 1, "reporte": 2, "absent": 3}.get(o["motif_key"])
        outcome_ok = not answered if want is None else any(a[3] == want for a in answered)
        oks = {
            "branch": branch_ok,
            "attempts": attempts_ok,
            "gap": gap_ok,
            "outcome": outcome_ok,
            "duplicate": not dups,
        }
        assert list(oks) == list(RULES)
        assert int(o["attempts"]) == len(atts), o["order_id"]
        assert int(o["counted_attempts"]) == counted == int(o["attempts"]) - len(dups), o["order_id"]
        assert [_b(o[f"{k}_ok"]) for k in oks] == list(oks.values()), o["order_id"]
        assert _b(o["compliant"]) == all(oks.values())
        assert o["reasons"] == ";".join(k for k, v in oks.items() if not v)
        assert o["duplicates"] == ";".join(f"{a[4]}>{a[5]}" for a in dups), o["order_id"]
        base, kind = _base_scenario(o["scenario"])
        assert kind == (truth_calls[dups[0][4]]["duplicate_kind"] if dups else ""), o["order_id"]
        want_reasons = set(SCENARIOS[base][1]) | ({"duplicate"} if dups else set())
        assert set(filter(None, o["reasons"].split(";"))) == want_reasons, o["scenario"]


def test_rules_recomputed_independently(data: tuple[Path, SynthSummary]) -> None:
    _check_rules(data[0])


def test_all_scenarios_present(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    scenarios = {_base_scenario(o["scenario"])[0] for o in _csv(out / "truth" / "orders.csv")}
    assert set(SCENARIOS) <= scenarios


def test_window_boundaries_present(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    truth = {r["call_id"]: r for r in _csv(out / "truth" / "calls.csv")}
    locals_ = [
        (datetime.fromisoformat(c["start_time"]).astimezone(TZ), truth[c["call_id"]]["in_window"])
        for c in _csv(out / "calls.csv")
    ]
    assert any(t.date() == DAY and (t.hour, t.minute) == (23, 30) and w == "true" for t, w in locals_)
    assert any(
        t.date() == DAY + timedelta(days=1) and (t.hour, t.minute) == (0, 10) and w == "false"
        for t, w in locals_
    )


def test_deterministic(data: tuple[Path, SynthSummary], tmp_path: Path) -> None:
    out, _ = data
    generate(tmp_path, orders=20, seed=11, day=DAY, progress=False, workers=1)
    for rel in ("calls.csv", "truth/calls.csv", "truth/orders.csv", "truth/rejects.csv", "truth/README.md"):
        assert (out / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
    dup_paths = [c["audio_path"] for c in _csv(out / "calls.csv")[-data[1].duplicate_calls :]]
    for rel in sorted((out / "audio").rglob("*"))[:10] + [out / "audio" / p for p in dup_paths]:
        if rel.is_file():
            assert rel.read_bytes() == (tmp_path / rel.relative_to(out)).read_bytes()
    for name in ("ACQUISITION_ADSL_20261118.csv", "ACQUISITION_VULA_20261118.csv"):
        assert (out / "manifests" / name).read_bytes() == (tmp_path / "manifests" / name).read_bytes()
    for name in ("SAV_ADSL_20261118.xlsx", "SAV_VULA_20261118.xlsx"):  # xlsx bytes carry a timestamp
        a, b = (openpyxl.load_workbook(d / "manifests" / name).active for d in (out, tmp_path))
        assert [[c.value for c in r] for r in a.iter_rows()] == [[c.value for c in r] for r in b.iter_rows()]


def _call(
    minutes: float,
    branch: str = "ADSL_SAV",
    outcome: str = "no_answer",
    intent: int = 0,
    call_id: str = "",
    duplicate_of: str = "",
) -> Call:
    start = datetime(2026, 11, 18, 8, tzinfo=UTC) + timedelta(minutes=minutes)
    kind = "identical" if duplicate_of else ""
    return Call(
        "X", branch, "", "", start, outcome, intent, 1, "SAV", "ADSL", True, call_id, duplicate_of, kind
    )


def test_evaluate_gap_boundary() -> None:
    assert evaluate("ADSL_SAV", "injoignable", [_call(0), _call(120), _call(240)]).compliant
    r = evaluate("ADSL_SAV", "injoignable", [_call(0), _call(119), _call(240)])
    assert not r.gap_ok and r.reasons == "gap"
    r = evaluate("ADSL_SAV", "refuse", [])
    assert r.branch_ok and r.gap_ok and r.reasons == "attempts;outcome"
    assert evaluate("ADSL_SAV", "absent", [_call(0, outcome="answered", intent=3)]).compliant


def test_evaluate_duplicates() -> None:
    three = [_call(0, call_id="A"), _call(120, call_id="B"), _call(240, call_id="C")]
    r = evaluate("ADSL_SAV", "injoignable", [*three, _call(400, call_id="D", duplicate_of="B")])
    assert (r.attempts, r.counted_attempts, r.attempts_ok, r.duplicate_ok) == (4, 3, True, False)
    assert r.duplicates == ("D>B",) and r.reasons == "duplicate" and not r.compliant
    r = evaluate("ADSL_SAV", "injoignable", [*three[:2], _call(400, call_id="D", duplicate_of="B")])
    assert (r.attempts, r.counted_attempts) == (3, 2) and r.reasons == "attempts;duplicate"
    # a duplicate is still evidence of what was heard (rule 4), and still an attempt for rules 1 and 3
    heard = _call(300, "FTTH_VULA_SAV", "answered", 2, "E", duplicate_of="Z")
    r = evaluate("ADSL_SAV", "reporte", [heard])
    assert (r.attempts, r.counted_attempts, r.outcome_ok) == (1, 0, True)
    assert r.reasons == "branch;attempts;duplicate"
    r = evaluate("ADSL_SAV", "injoignable", [*three, _call(241, call_id="D", duplicate_of="A")])
    assert r.reasons == "gap;duplicate"


def test_mulaw_roundtrip_is_close() -> None:
    x = (0.5 * np.sin(np.linspace(0, 50, 4000))).astype(np.float32)
    assert float(np.max(np.abs(mulaw_roundtrip(x) - x))) < 0.02


# ---------------------------------------------------------------- duplicates, on the suite's data set
# (conftest's synth_set: 40 orders, seed 5, day 2026-11-20, shared with the pipeline tests)

SUITE_DAY, SUITE_SEED, SUITE_ORDERS = date(2026, 11, 20), 5, 40
Rows = dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def suite(synth_set: Path) -> tuple[Path, Rows, Rows]:
    calls = {c["call_id"]: c for c in _csv(synth_set / "calls.csv")}
    truth = {t["call_id"]: t for t in _csv(synth_set / "truth" / "calls.csv")}
    return synth_set, calls, truth


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dups(truth: Rows, *kinds: str) -> list[dict[str, str]]:
    return [t for t in truth.values() if t["duplicate_of"] and (not kinds or t["duplicate_kind"] in kinds)]


def _start(row: dict[str, str]) -> datetime:
    return datetime.fromisoformat(row["start_time"])


def test_every_duplicate_kind_in_the_suite_set(suite: tuple[Path, Rows, Rows]) -> None:
    _, _, truth = suite
    kinds = [t["duplicate_kind"] for t in _dups(truth)]
    assert set(kinds) == set(DUPLICATE_KINDS)
    assert len(kinds) <= max(3, round(0.08 * SUITE_ORDERS))
    assert all(not t["duplicate_kind"] for t in truth.values() if not t["duplicate_of"])


def test_rules_recomputed_on_the_suite_set(suite: tuple[Path, Rows, Rows]) -> None:
    _check_rules(suite[0])


def test_identical_duplicates_share_the_original_bytes(suite: tuple[Path, Rows, Rows]) -> None:
    out, calls, truth = suite
    for t in _dups(truth, "identical", "other_order"):
        dup, orig = calls[t["call_id"]], calls[t["duplicate_of"]]
        assert dup["audio_path"] != orig["audio_path"]
        assert _sha256(out / "audio" / dup["audio_path"]) == _sha256(out / "audio" / orig["audio_path"])
        same = ("outcome", "intent", "ring_bursts", "sample_rate", "subtype", "duration_s", "transcript")
        assert [t[k] for k in same] == [truth[orig["call_id"]][k] for k in same]


def _mono_8k(path: Path) -> np.ndarray:
    x, rate = sf.read(path, dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    return x if rate == 8000 else resample_poly(x, 8000, rate)


def test_reencoded_duplicates_are_the_same_conversation(suite: tuple[Path, Rows, Rows]) -> None:
    out, calls, truth = suite
    for t in _dups(truth, "reencoded"):
        o = truth[t["duplicate_of"]]
        dup, orig = calls[t["call_id"]], calls[o["call_id"]]
        a, b = out / "audio" / orig["audio_path"], out / "audio" / dup["audio_path"]
        assert _sha256(a) != _sha256(b)
        assert (
            o["outcome"] == t["outcome"] == "answered"
            and o["transcript"]
            and o["transcript"] == t["transcript"]
        )
        assert (o["format"], o["subtype"], o["sample_rate"]) != (t["format"], t["subtype"], t["sample_rate"])
        info = sf.info(b)
        assert (info.format, info.subtype, info.samplerate) == (
            t["format"],
            t["subtype"],
            int(t["sample_rate"]),
        )
        assert abs(float(dup["duration_s"]) - float(orig["duration_s"])) < 0.1
        assert abs(info.duration - sf.info(a).duration) < 0.1
        # independent check: the copy is the original scaled by 0.5-0.8, up to resampling and companding
        x, y = _mono_8k(a), _mono_8k(b)
        n = min(x.size, y.size)
        x, y = x[:n], y[:n]
        gain = float(x @ y / (x @ x))
        assert 0.45 <= gain <= 0.85, gain
        assert float(np.corrcoef(x, y)[0, 1]) > 0.95


def test_duplicates_are_placed_like_attempts(suite: tuple[Path, Rows, Rows]) -> None:
    out, calls, truth = suite
    orders = {o["order_id"]: o for o in _csv(out / "truth" / "orders.csv")}
    for t in _dups(truth):
        dup, orig = calls[t["call_id"]], calls[t["duplicate_of"]]
        o = orders[t["order_id"]]
        other = t["duplicate_kind"] == "other_order"
        assert (truth[orig["call_id"]]["order_id"] != t["order_id"]) == other
        assert (_e164(orig["client_number"]) != _e164(dup["client_number"])) == other
        assert _e164(dup["client_number"]) == o["client_number"] and t["in_window"] == "true"
        assert dup["branch"] == EXPECTED_BRANCH[(o["order_type"], o["offer"])]
        assert _start(orig) < _start(dup) and not truth[orig["call_id"]]["duplicate_of"]
        assert _base_scenario(o["scenario"])[1] == t["duplicate_kind"] and o["duplicate_ok"] == "false"
        assert f"{t['call_id']}>{orig['call_id']}" in o["duplicates"].split(";")
        local = _start(dup).astimezone(TZ)
        assert 8 <= local.hour < 20
        neighbours = [
            c for c in calls.values() if c is not dup and _e164(c["client_number"]) == o["client_number"]
        ]
        assert all(abs((_start(c) - _start(dup)).total_seconds()) >= 7200 for c in neighbours)


def test_original_is_the_earliest_call_with_that_recording(suite: tuple[Path, Rows, Rows]) -> None:
    out, calls, truth = suite
    by_sha: dict[str, list[dict[str, str]]] = {}
    for c in calls.values():
        by_sha.setdefault(_sha256(out / "audio" / c["audio_path"]), []).append(c)
    shared = [sorted(g, key=_start) for g in by_sha.values() if len(g) > 1]
    assert shared
    for first, *copies in shared:
        assert not truth[first["call_id"]]["duplicate_of"]
        assert all(truth[c["call_id"]]["duplicate_of"] == first["call_id"] for c in copies)
    identical = {t["call_id"] for t in _dups(truth, "identical", "other_order")}
    assert identical == {c["call_id"] for _, *copies in shared for c in copies}


def test_duplicates_leave_the_rest_of_the_plan_alone() -> None:
    args = (SUITE_ORDERS, SUITE_SEED, SUITE_DAY, "Africa/Casablanca", "212")
    plan, bare = build_plan(*args), build_plan(*args, duplicates=False)
    assert plan.calls[: len(bare.calls)] == bare.calls and not any(c.duplicate_of for c in bare.calls)
    dups = plan.calls[len(bare.calls) :]
    assert dups and all(c.duplicate_of for c in dups)
    targets = {c.order_id for c in dups}
    assert len(targets) == len(dups)
    for o, b in zip(plan.orders, bare.orders, strict=True):
        assert _base_scenario(o.scenario)[0] == b.scenario and (o.scenario != b.scenario) == (
            o.order_id in targets
        )
        if o.order_id not in targets and o.audited:
            assert plan.results[o.order_id] == bare.results[o.order_id]
    assert build_plan(*args) == plan


def test_two_days_of_one_seed_number_their_calls_apart() -> None:
    """Two days' data sets of the same seed load into one warehouse: no call id names two calls."""
    args = (SUITE_ORDERS, SUITE_SEED)
    today = build_plan(*args, SUITE_DAY, "Africa/Casablanca", "212")
    tomorrow = build_plan(*args, SUITE_DAY + timedelta(days=1), "Africa/Casablanca", "212")
    ids = [c.call_id for c in today.calls]
    assert len(set(ids)) == len(ids) and ids[0] == f"C{SUITE_DAY:%Y%m%d}-00001"
    assert not set(ids) & {c.call_id for c in tomorrow.calls}


def test_calls_csv_follows_the_plan_and_copies_are_reproducible(
    suite: tuple[Path, Rows, Rows], tmp_path: Path
) -> None:
    out, calls, truth = suite
    plan = build_plan(SUITE_ORDERS, SUITE_SEED, SUITE_DAY, "Africa/Casablanca", "212")
    assert [c.call_id for c in plan.calls] == list(calls)
    index = {cid: i for i, cid in enumerate(calls)}
    for t in _dups(truth, "reencoded"):
        o = truth[t["duplicate_of"]]
        src = calls[o["call_id"]]["audio_path"]
        (tmp_path / "audio" / src).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "audio" / src).write_bytes((out / "audio" / src).read_bytes())
        original = RenderedCall(
            o["call_id"],
            src,
            [],
            [],
            [],
            None,
            int(o["sample_rate"]),
            int(o["channels"]),
            o["subtype"],
            o["format"],
            float(o["snr_db"]),
            float(o["duration_s"]),
            o["transcript"],
            json.loads(o["speech_spans"]),
        )
        rel = calls[t["call_id"]]["audio_path"]
        branch, day, _ = rel.split("/")
        job = DuplicateJob(
            index[t["call_id"]], SUITE_SEED, t["call_id"], branch, day, "reencoded", str(tmp_path)
        )
        made = copy_recording(job, original)
        assert made.audio_path == rel and made.duration_s == float(t["duration_s"])
        assert (tmp_path / "audio" / rel).read_bytes() == (out / "audio" / rel).read_bytes()


def test_duplicate_count_plants_that_many_of_each_kind() -> None:
    """generate(duplicates=N) / build_plan(duplicate_count=N): N duplicate attempts, a third of each kind,
    on top of the very same plan, each order's verdicts still those of the rules (benchmarks/dedupe_synth)."""
    args = (120, 3, SUITE_DAY, "Africa/Casablanca", "212")
    plan, bare = build_plan(*args, duplicate_count=30), build_plan(*args, duplicates=False)
    dups = plan.calls[len(bare.calls) :]
    assert plan.calls[: len(bare.calls)] == bare.calls
    assert all(c.duplicate_of for c in dups) and len(dups) == 30
    assert {k: sum(c.duplicate_kind == k for c in dups) for k in DUPLICATE_KINDS} == dict.fromkeys(
        DUPLICATE_KINDS, 10
    )
    assert len({c.order_id for c in dups}) == 30  # one duplicate per target order
    by_id = {c.call_id: c for c in plan.calls}
    assert all(by_id[c.duplicate_of].start_utc < c.start_utc for c in dups)
    for o in plan.orders:
        if o.audited:
            attempts = [
                c
                for c in plan.calls
                if c.client_e164 == o.client_e164 and in_window(c.start_utc, o.ordered_on, o.suspended_on, TZ)
            ]
            assert plan.results[o.order_id] == evaluate(o.branch, o.motif_key, attempts), o.order_id
    # the default is the share of the orders; zero plants none; fewer candidates than asked: fewer planted
    assert len([c for c in build_plan(*args).calls if c.duplicate_of]) == round(0.06 * 120)
    assert not any(c.duplicate_of for c in build_plan(*args, duplicate_count=0).calls)
    small = build_plan(20, 3, SUITE_DAY, "Africa/Casablanca", "212", duplicate_count=60)
    assert 0 < sum(bool(c.duplicate_of) for c in small.calls) < 60
    assert duplicate_kinds(300, 7) == sorted(
        ["identical", "reencoded", "other_order"] * 2 + ["identical"], key=DUPLICATE_KINDS.index
    )
    with pytest.raises(ValueError):
        duplicate_kinds(40, -1)


def test_a_call_speaks_the_phrase_bank_it_is_given(tmp_path: Path) -> None:
    """An evaluation can make calls with words the generator's own bank never uses: same situation (seed,
    outcome, intent), the words of the bank named in the job."""
    from dataclasses import replace

    from synth.render import CallJob, render_call

    job = CallJob(3, 11, "C000003", "ADSL_SAV", "20261124", "answered", 1, 1, "SAV", "ADSL", str(tmp_path))
    own = render_call(job)
    other = render_call(replace(job, call_id="C000004", phrasebank="benchmarks.phrases_independent"))
    assert "Atlas Télécom" in own.transcript and "Maroc Connect" not in own.transcript
    assert "Maroc Connect" in other.transcript and "Atlas Télécom" not in other.transcript
    assert (own.sample_rate, own.channels, own.snr_db) == (other.sample_rate, other.channels, other.snr_db)
