"""Hostile inputs (issue 18): nothing loaded is lost, nothing is certified from nothing, one bad value never
fails the day. Three daily runs on one small synthetic set (clean; a bad calls.csv and an undecodable
manifest; bad values, unanalysable and escaping recordings, a re-pointed and a dropped call), then ingest
runs of other bad call records files. Each bad item must be in ops.rejects with its reason, the rows already
loaded and the other orders' verdicts unchanged, and every run must complete (dbt and GX included)."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest
import soundfile as sf

from tests.conftest import DAY, SEED

pytestmark = pytest.mark.usefixtures("prefect_api")

ORPHAN = "0600000017"  # a client number no manifest holds: its calls are nobody's attempts
WHEN = "2026-11-20T10:00:00+01:00"
MANIFEST_BAD = f"ACQUISITION_ADSL_{DAY:%Y%m%d}.csv"  # gets an undecodable byte (0x81)
MANIFEST_UTF16 = f"ACQUISITION_VULA_{DAY:%Y%m%d}.csv"  # re-encoded as UTF-16, plus a row with NUL bytes


@dataclass
class Snapshot:
    verdicts: dict[str, tuple]
    calls: dict[str, tuple]
    manifest_rows: set[tuple]
    audio_paths: set[str]
    rejects: dict[tuple[str, str, str], str]  # (kind, source, location) -> reason
    counts_ok: bool  # the GX row counts' inputs equal the tables


def snapshot(url: str) -> Snapshot:
    from expectations.checkpoint import input_counts

    with psycopg.connect(url) as conn:
        verdicts = {
            r[0]: r[1:]
            for r in conn.execute(
                """select order_key, is_branch_ok, is_attempts_ok, is_gap_ok, is_outcome_ok, is_duplicate_ok,
                          is_compliant, is_review_needed, review_reason, reasons_text
                   from marts.order_compliance"""
            )
        }
        calls = {
            r[0]: r[1:]
            for r in conn.execute(
                "select call_id, source_path, row_number, client_number, start_time, duration_s, audio_path"
                " from raw.calls"
            )
        }
        manifest_rows = set(
            conn.execute(
                "select source_path, row_number, order_id, client_number, ordered_on, suspended_on, motif"
                " from raw.manifest_rows"
            ).fetchall()
        )
        audio = {r[0] for r in conn.execute("select audio_path from raw.audio_files")}
        rejects = {
            (k, s, loc): reason
            for k, s, loc, reason in conn.execute(
                "select source_kind, source, location, reason from ops.rejects"
            )
        }
        n_calls = conn.execute("select count(*) from raw.calls").fetchone()[0]
        n_manifest = conn.execute("select count(*) from raw.manifest_rows").fetchone()[0]
        n_audio = conn.execute("select count(*) from raw.audio_files").fetchone()[0]
    counts = input_counts(url, "Suspendu")
    ok = (counts["calls"], counts["manifest_rows"], counts["audio_files"]) == (n_calls, n_manifest, n_audio)
    return Snapshot(verdicts, calls, manifest_rows, audio, rejects, ok)


def run_daily(folder: Path) -> None:
    from flows.daily import daily_compliance

    daily_compliance(
        date=DAY,
        manifests_dir=str(folder / "manifests"),
        calls_file=str(folder / "calls.csv"),
        audio_root=str(folder / "audio"),
    )


def read_calls(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write_calls(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)


def bad_recording(path: Path, kind: str, variant: int) -> None:
    """A recording that decodes but holds nothing to analyse; ``variant`` makes each file's bytes unique."""
    if kind == "zero_frames":
        sf.write(path, np.zeros(0, dtype="float32"), 8000 + variant)
    elif kind == "one_sample":
        sf.write(path, np.zeros(1, dtype="float32"), 8000 + variant)
    elif kind == "one_hz":
        sf.write(path, np.zeros(100 + variant, dtype="float32"), 1)
    else:  # non-finite float samples
        samples = np.zeros(16_000 + variant, dtype="float32")
        samples[100], samples[200] = np.nan, np.inf
        sf.write(path, samples, 8000, subtype="FLOAT")


BAD_KINDS = ("zero_frames", "one_sample", "one_hz", "non_finite")
WHY = {
    "zero_frames": "0 frame(s)",
    "one_sample": "1 frame(s)",
    "one_hz": "sample rate 1 Hz",
    "non_finite": "non-finite samples",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synth import generate

    out = tmp_path_factory.mktemp("hostile")
    generate(out, orders=6, seed=SEED, day=DAY, progress=False, duplicates=0)
    return out


@pytest.fixture(scope="module")
def clean(folder: Path, database_url: str) -> Snapshot:
    run_daily(folder)
    return snapshot(database_url)


@pytest.fixture(scope="module")
def bad_files(clean: Snapshot, folder: Path, database_url: str) -> Snapshot:
    """Run 2: calls.csv emptied (the issue's repro) and a loaded manifest replaced by undecodable bytes."""
    shutil.copy(folder / "calls.csv", folder / "calls.orig.csv")
    (folder / "calls.csv").write_bytes(b"")
    manifest = folder / "manifests" / MANIFEST_BAD
    manifest.write_bytes(manifest.read_bytes() + b"CMD-9;\x81;x\r\n")
    run_daily(folder)
    return snapshot(database_url)


@dataclass
class Hostile:
    after: Snapshot
    target: str  # the order whose recordings were all made unanalysable
    touched_orders: set[str]  # orders whose attempts were edited (their verdicts may change)
    dropped_audio: set[str]  # recordings no call points to any more
    call_rows: dict[str, str]  # "row N" of calls.csv -> what was wrong in it
    bad_audio: dict[str, str]  # audio_path -> kind
    escaping: list[str]
    nul_manifest_row: int


@pytest.fixture(scope="module")
def hostile(bad_files: Snapshot, clean: Snapshot, folder: Path, database_url: str) -> Hostile:
    """Run 3: calls.csv back, with bad values, unanalysable and escaping recordings, a dropped call and
    re-pointed calls; one manifest in UTF-16 with a NUL row; the undecodable manifest still there."""
    with psycopg.connect(database_url) as conn:
        attempts = conn.execute(
            "select order_key, call_id, audio_path from marts.call_attempts order by 1, attempt_number"
        ).fetchall()
    by_order: dict[str, list[tuple[str, str]]] = {}
    orders_of_call: dict[str, set[str]] = {}
    for order_key, call_id, audio_path in attempts:
        by_order.setdefault(order_key, []).append((call_id, audio_path))
        orders_of_call.setdefault(call_id, set()).add(order_key)
    target = max(by_order, key=lambda k: (len(by_order[k]), k))
    target_calls = by_order[target]
    assert len(target_calls) >= 2, "the synthetic set needs an order with two attempts"
    dropped_call, dropped_path = target_calls[0]
    touched = set().union(*(orders_of_call[c] for c, _ in target_calls))

    header, rows = read_calls(folder / "calls.orig.csv")
    audio = folder / "audio"
    bad_audio: dict[str, str] = {}
    kept = [r for r in rows if r["call_id"] != dropped_call]
    variant = 0
    for i, row in enumerate(r for r in kept if r["call_id"] in {c for c, _ in target_calls}):
        kind = BAD_KINDS[i % len(BAD_KINDS)]
        row["audio_path"] = f"bad/{row['call_id']}_{kind}.wav"
        variant += 1
        (audio / "bad").mkdir(exist_ok=True)
        bad_recording(audio / row["audio_path"], kind, variant)
        bad_audio[row["audio_path"]] = kind

    def orphan(call_id: str, **cells: str) -> dict[str, str]:
        base = {h: "" for h in header}
        base.update(call_id=call_id, branch="ADSL_SAV", caller_number="0522000001", client_number=ORPHAN)
        base.update(start_time=WHEN, duration_s="12.5", audio_path="")
        base.update(cells)
        return base

    extra = []
    for kind in BAD_KINDS:  # every kind at least once, whatever the target's number of calls
        variant += 1
        path = f"bad/orphan_{kind}.wav"
        bad_recording(audio / path, kind, variant)
        bad_audio[path] = kind
        extra.append(orphan(f"X-{kind}", audio_path=path))
    outside = folder / "outside.wav"
    sf.write(outside, np.zeros(8000, dtype="float32"), 8000)
    (audio / "escape.wav").symlink_to(outside)
    escaping = ["../../etc/passwd", "a/../../x.wav", "escape.wav"]
    extra += [orphan(f"X-esc-{i}", audio_path=p) for i, p in enumerate(escaping)]
    first_bad_row = len(kept) + len(extra) + 1
    extra += [
        orphan("X-inf", duration_s="inf"),
        orphan("X-huge", duration_s="100000000"),
        orphan("X-nul", branch="ADSL\x00SAV"),
    ]
    write_calls(folder / "calls.csv", header, kept + extra)
    call_rows = {
        f"row {first_bad_row}": "more than a day",
        f"row {first_bad_row + 1}": "more than a day",
        f"row {first_bad_row + 2}": "NUL byte in branch",
    }

    from flows.readers import decode

    manifest = folder / "manifests" / MANIFEST_UTF16
    text = decode(manifest.read_bytes()).replace("\r\n", "\n").rstrip("\n")
    lines = text.split("\n")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    nul_row = delimiter.join(cell + "\x00" for cell in lines[-1].split(delimiter))
    manifest.write_bytes(("\n".join([*lines, nul_row]) + "\n").encode("utf-16"))

    run_daily(folder)
    return Hostile(
        snapshot(database_url),
        target,
        touched,
        {dropped_path} | {p for _, p in target_calls},
        call_rows,
        bad_audio,
        escaping,
        len(lines),  # data rows are numbered from 1 after the header
    )


def calls_source(folder: Path) -> str:
    return str((folder / "calls.csv").resolve())


# ------------------------------------------------------------------------------- defect 1: bad calls.csv
def test_an_empty_calls_file_keeps_the_loaded_calls_and_verdicts(
    clean: Snapshot, bad_files: Snapshot, folder: Path
) -> None:
    assert clean.calls and bad_files.calls == clean.calls
    assert bad_files.verdicts == clean.verdicts
    reason = bad_files.rejects[("calls", calls_source(folder), "file")]
    assert "calls.csv is empty" in reason and "kept" in reason
    assert bad_files.counts_ok


def test_an_undecodable_manifest_is_rejected_by_name_and_its_rows_stay(
    clean: Snapshot, bad_files: Snapshot
) -> None:
    reason = bad_files.rejects[("manifest", MANIFEST_BAD, "file")]
    assert MANIFEST_BAD in reason and "0x81" in reason
    assert bad_files.manifest_rows == clean.manifest_rows
    assert any(source == MANIFEST_BAD for source, *_ in clean.manifest_rows)


# ------------------------------------------------------- defects 2, 3, 6, 7 in one run (independent items)
def test_the_hostile_run_keeps_every_other_verdict(clean: Snapshot, hostile: Hostile) -> None:
    after = hostile.after
    assert set(after.verdicts) == set(clean.verdicts)
    others = set(clean.verdicts) - hostile.touched_orders
    assert others and {k: after.verdicts[k] for k in others} == {k: clean.verdicts[k] for k in others}
    assert after.manifest_rows == clean.manifest_rows
    assert after.counts_ok


def test_unanalysable_recordings_send_their_order_to_review(hostile: Hostile) -> None:
    (*_, outcome_ok, _, _, needs_review, review_reason, _) = hostile.after.verdicts[hostile.target]
    assert outcome_ok is None and needs_review is True
    assert "recording quarantined" in review_reason
    rejects = hostile.after.rejects
    for path, kind in hostile.bad_audio.items():
        reasons = [r for (k, s, _), r in rejects.items() if s == path and k in ("audio", "audio_analysis")]
        assert len(reasons) == 1 and WHY[kind] in reasons[0], (path, reasons)
        assert "unanalysable recording" in reasons[0]


def test_bad_values_quarantine_their_row_only(hostile: Hostile, folder: Path) -> None:
    rejects = hostile.after.rejects
    for location, fragment in hostile.call_rows.items():
        assert fragment in rejects[("calls", calls_source(folder), location)], location
    assert not {"X-inf", "X-huge", "X-nul"} & set(hostile.after.calls)
    nul = rejects[("manifest", MANIFEST_UTF16, f"row {hostile.nul_manifest_row}")]
    assert "NUL byte" in nul
    assert ("manifest", MANIFEST_UTF16, "file") not in rejects  # UTF-16 is read, not rejected


def test_recording_rows_follow_their_calls(hostile: Hostile) -> None:
    after = hostile.after
    referenced = {row[-1] for row in after.calls.values() if row[-1]}
    assert after.audio_paths <= referenced
    assert not hostile.dropped_audio & after.audio_paths


def test_paths_outside_the_audio_root_are_rejected_not_read(hostile: Hostile) -> None:
    for path in hostile.escaping:
        assert "outside the audio root" in hostile.after.rejects[("audio", path, "file")]
        assert path not in hostile.after.audio_paths


# --------------------------------------------------- defect 1: other bad calls files, another folder's file
def test_other_bad_call_files_and_another_folders_file(
    hostile: Hostile, folder: Path, database_url: str, tmp_path: Path
) -> None:
    from flows.ingest import ingest

    source = calls_source(folder)
    header, rows = read_calls(folder / "calls.csv")
    loaded = hostile.after.calls
    without_start = [h for h in header if h != "start_time"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, without_start, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    variants = {"header only": ",".join(header) + "\r\n", "column missing": buffer.getvalue()}
    expected = {
        "header only": "has a header but no data rows",
        "column missing": "missing column(s) start_time",
    }
    for name, text in variants.items():
        (folder / "calls.csv").write_text(text, encoding="utf-8")
        ingest(
            folder / "manifests",
            folder / "calls.csv",
            str(folder / "audio"),
            day=DAY,
            database_url=database_url,
        )
        now = snapshot(database_url)
        location = "file" if name == "header only" else "header"
        assert expected[name] in now.rejects[("calls", source, location)], name
        assert now.calls == loaded and now.counts_ok, name

    other = tmp_path / "next-day"
    other.mkdir()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header)
    writer.writeheader()
    writer.writerow({**rows[0], "call_id": "NEXT-1", "audio_path": ""})
    (other / "calls.csv").write_text(buffer.getvalue(), encoding="utf-8")
    ingest(
        folder / "manifests", other / "calls.csv", str(folder / "audio"), day=DAY, database_url=database_url
    )
    now = snapshot(database_url)
    assert {k: v for k, v in now.calls.items() if k != "NEXT-1"} == loaded
    assert now.calls["NEXT-1"][0] == str((other / "calls.csv").resolve())
    assert now.counts_ok


def test_a_call_the_audit_cannot_see_sends_its_order_to_review_not_to_a_failed_rule(
    hostile: Hostile, folder: Path, database_url: str, tmp_path: Path
) -> None:
    """The next day's export from another folder reuses call ids already loaded for other calls (a second
    data set with the same numbering): those records are quarantined, and the order of their client, with no
    loaded attempt, goes to a person with the records named instead of failing rule 2 (and 4) on calls the
    audit cannot see. An order of the same file whose client has no quarantined record fails as before."""
    from flows.ingest import ingest
    from flows.transform import dbt_build

    day = DAY.replace(day=DAY.day + 1)
    header, rows = read_calls(folder / "calls.orig.csv")
    taken = sorted(hostile.after.calls)[:2]  # ids of calls loaded from this module's own calls file
    other = tmp_path / "next-day"
    (other / "manifests").mkdir(parents=True)
    (other / "manifests" / f"SAV_ADSL_{day:%Y%m%d}.csv").write_text(
        "Num Ticket;MSISDN;Date Création;Date Suspension;Etat;Motif;Offre\n"
        f"TCK-UNSEEN;0612990001;{day:%Y-%m-%d};{day:%Y-%m-%d};Suspendu;Client injoignable;ADSL\n"
        f"TCK-UNCALLED;0612990002;{day:%Y-%m-%d};{day:%Y-%m-%d};Suspendu;Client injoignable;ADSL\n",
        encoding="utf-8",
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header)
    writer.writeheader()
    for hour, call_id in zip((9, 12), taken, strict=True):
        writer.writerow(
            {**rows[0], "call_id": call_id, "client_number": "0612990001", "branch": "ADSL_SAV",
             "start_time": f"{day:%Y-%m-%d}T{hour:02d}:00:00+01:00", "audio_path": ""}
        )  # fmt: skip
    (other / "calls.csv").write_text(buffer.getvalue(), encoding="utf-8")

    ingest(
        other / "manifests", other / "calls.csv", str(folder / "audio"), day=day, database_url=database_url
    )
    dbt_build(database_url)
    with psycopg.connect(database_url) as conn:
        got = {
            r[0]: r[1:]
            for r in conn.execute(
                """select order_id, attempts, is_machine_attempts_ok, is_outcome_ok, is_compliant,
                          is_review_needed, quarantined_call_records, review_reason, reasons_text
                   from marts.order_compliance where order_id in ('TCK-UNSEEN', 'TCK-UNCALLED')"""
            )
        }
    notes = "; ".join(
        f"call record row {n} of calls.csv quarantined (call_id {c!r} already loaded from another file)"
        for n, c in enumerate(taken, 1)
    )
    assert got["TCK-UNSEEN"] == (0, None, None, True, True, 2, notes, "")
    assert got["TCK-UNCALLED"] == (0, False, True, False, False, 0, None, "attempts")
