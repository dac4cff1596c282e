"""Tests for the synthetic data generator (real files, independent recomputation of the truth)."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pytest
import soundfile as sf

from synth import SynthSummary, generate
from synth.audio import mulaw_roundtrip
from synth.scenarios import SCENARIOS, Call, evaluate

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


def test_rules_recomputed_independently(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    truth_calls = {r["call_id"]: r for r in _csv(out / "truth" / "calls.csv")}
    by_client: dict[str, list[tuple[datetime, str, str, int]]] = {}
    for c in _csv(out / "calls.csv"):
        t = truth_calls[c["call_id"]]
        by_client.setdefault(_e164(c["client_number"]), []).append(
            (datetime.fromisoformat(c["start_time"]), c["branch"], t["outcome"], int(t["intent"]))
        )
    for o in _csv(out / "truth" / "orders.csv"):
        if not _b(o["audited"]):
            assert o["status"] != "Suspendu" and o["compliant"] == "" and o["reasons"] == ""
            continue
        first, last = date.fromisoformat(o["ordered_on"]), date.fromisoformat(o["suspended_on"])
        atts = sorted(
            a for a in by_client.get(o["client_number"], []) if first <= a[0].astimezone(TZ).date() <= last
        )
        expected = EXPECTED_BRANCH[(o["order_type"], o["offer"])]
        branch_ok = all(a[1] == expected for a in atts)
        attempts_ok = len(atts) >= (3 if o["motif_key"] == "injoignable" else 1)
        gap_ok = all((b[0] - a[0]).total_seconds() >= 7200 for a, b in zip(atts, atts[1:], strict=False))
        answered = [a for a in atts if a[2] == "answered"]
        want = {"refuse": 1, "reporte": 2, "absent": 3}.get(o["motif_key"])
        outcome_ok = not answered if want is None else any(a[3] == want for a in answered)
        oks = {"branch": branch_ok, "attempts": attempts_ok, "gap": gap_ok, "outcome": outcome_ok}
        assert int(o["attempts"]) == len(atts), o["order_id"]
        assert [_b(o[f"{k}_ok"]) for k in oks] == list(oks.values()), o["order_id"]
        assert _b(o["compliant"]) == all(oks.values())
        assert o["reasons"] == ";".join(k for k, v in oks.items() if not v)
        assert set(filter(None, o["reasons"].split(";"))) == set(SCENARIOS[o["scenario"]][1]), o["scenario"]


def test_all_scenarios_present(data: tuple[Path, SynthSummary]) -> None:
    out, _ = data
    scenarios = {o["scenario"] for o in _csv(out / "truth" / "orders.csv")}
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
    for rel in ("calls.csv", "truth/calls.csv", "truth/orders.csv", "truth/rejects.csv"):
        assert (out / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
    for rel in sorted((out / "audio").rglob("*"))[:10]:
        if rel.is_file():
            assert rel.read_bytes() == (tmp_path / rel.relative_to(out)).read_bytes()
    for name in ("ACQUISITION_ADSL_20261118.csv", "ACQUISITION_VULA_20261118.csv"):
        assert (out / "manifests" / name).read_bytes() == (tmp_path / "manifests" / name).read_bytes()


def _call(minutes: float, branch: str = "ADSL_SAV", outcome: str = "no_answer", intent: int = 0) -> Call:
    start = datetime(2026, 11, 18, 8, tzinfo=UTC) + timedelta(minutes=minutes)
    return Call("X", branch, "", "", start, outcome, intent, 1, "SAV", "ADSL", True)


def test_evaluate_gap_boundary() -> None:
    assert evaluate("ADSL_SAV", "injoignable", [_call(0), _call(120), _call(240)]).compliant
    r = evaluate("ADSL_SAV", "injoignable", [_call(0), _call(119), _call(240)])
    assert not r.gap_ok and r.reasons == "gap"
    r = evaluate("ADSL_SAV", "refuse", [])
    assert r.branch_ok and r.gap_ok and r.reasons == "attempts;outcome"
    assert evaluate("ADSL_SAV", "absent", [_call(0, outcome="answered", intent=3)]).compliant


def test_mulaw_roundtrip_is_close() -> None:
    x = (0.5 * np.sin(np.linspace(0, 50, 4000))).astype(np.float32)
    assert float(np.max(np.abs(mulaw_roundtrip(x) - x))) < 0.02
