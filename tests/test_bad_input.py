"""Bad input never stops the batch and is never lost: each case ends in ops.rejects with a reason."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import psycopg
import pytest
import soundfile as sf

from tests.conftest import DAY

pytestmark = pytest.mark.usefixtures("prefect_api")

CALL_HEADER = [
    "call_id",
    "branch",
    "caller_number",
    "client_number",
    "start_time",
    "duration_s",
    "audio_path",
]


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("messy")
    manifests, audio = root / "manifests", root / "audio"
    manifests.mkdir()
    audio.mkdir()
    day = f"{DAY:%Y%m%d}"
    good = [
        "N° Commande;Numéro Client;Date Commande;Date Suspension;Statut;Motif Suspension;Offre",
        f"CMD-1;0611111111;01/11/2026;{DAY:%d/%m/%Y};Suspendu;Client injoignable;ADSL",
        f"CMD-2;0622222222;hier;{DAY:%d/%m/%Y};Suspendu;Client absent;ADSL",
    ]
    (manifests / f"ACQUISITION_ADSL_{day}.csv").write_text("\n".join(good) + "\n", encoding="cp1252")
    unknown = [
        "Order;Phone;Date Commande;Date Suspension;Statut;Motif Suspension;Offre",
        f"CMD-3;0633333333;01/11/2026;{DAY:%d/%m/%Y};Suspendu;Client absent;VULA",
    ]
    (manifests / f"ACQUISITION_VULA_{day}.csv").write_text("\n".join(unknown) + "\n", encoding="utf-8")
    (manifests / f"SAV_FIBRE_{day}.csv").write_text("Num Ticket\nT1\n", encoding="utf-8")
    (manifests / f"SAV_ADSL_{day}.xlsx").write_bytes(b"this is not a workbook")
    sf.write(audio / "ok.wav", np.zeros(800, dtype="float32"), 8000)
    (audio / "garbage.wav").write_bytes(np.random.default_rng(0).bytes(2000))
    rows = [
        ["C1", "ADSL_INSTALL", "0522000001", "0611111111", "2026-11-05T10:00:00+01:00", "12.5", "ok.wav"],
        [
            "C2",
            "ADSL_INSTALL",
            "0522000001",
            "0611111111",
            "2026-11-05T13:00:00+01:00",
            "12.5",
            "garbage.wav",
        ],
        ["C3", "ADSL_INSTALL", "0522000001", "0611111111", "2026-11-05T16:00:00+01:00", "9", "missing.wav"],
        ["C4", "ADSL_INSTALL", "0522000001", "0611111111", "not a time", "9", "ok.wav"],
        ["C1", "ADSL_INSTALL", "0522000001", "0611111111", "2026-11-05T18:00:00+01:00", "9", "ok.wav"],
        ["C5", "ADSL_INSTALL", "0522000001", "0611111111", "2026-11-05T19:00:00+01:00", "-3", "ok.wav"],
    ]
    with open(root / "calls.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CALL_HEADER)
        writer.writerows(rows)
    return root


@pytest.fixture(scope="module")
def ingested(messy: Path, database_url: str):
    from flows.ingest import ingest

    return ingest(
        messy / "manifests", messy / "calls.csv", str(messy / "audio"), day=DAY, database_url=database_url
    )


def rejects(url: str) -> dict[tuple[str, str], str]:
    with psycopg.connect(url) as conn:
        return {
            (s, loc): reason
            for s, loc, reason in conn.execute("select source, location, reason from ops.rejects")
        }


def test_good_rows_load_despite_bad_neighbours(ingested, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert [r[0] for r in conn.execute("select order_id from raw.manifest_rows")] == ["CMD-1"]
        assert sorted(r[0] for r in conn.execute("select call_id from raw.calls")) == ["C1", "C2", "C3"]
        assert [r[0] for r in conn.execute("select audio_path from raw.audio_files")] == ["ok.wav"]


def test_every_problem_has_a_reject_with_a_reason(ingested, messy: Path, database_url: str) -> None:
    day = f"{DAY:%Y%m%d}"
    calls = str((messy / "calls.csv").resolve())  # a call records file is known by its path, not its name
    found = rejects(database_url)
    expected_fragments = {
        (f"ACQUISITION_ADSL_{day}.csv", "row 2"): "'hier' is not a date",
        (f"ACQUISITION_VULA_{day}.csv", "header"): "missing column(s) order_id (header 'N° Commande')",
        (f"SAV_FIBRE_{day}.csv", "file"): "offer 'FIBRE'",
        (f"SAV_ADSL_{day}.xlsx", "file"): "not a readable XLSX",
        (calls, "row 4"): "not ISO 8601",
        (calls, "row 5"): "duplicate call_id 'C1'",
        (calls, "row 6"): "negative",
        ("garbage.wav", "file"): "unreadable recording",
        ("missing.wav", "file"): "not found under audio root",
    }
    assert set(found) == set(expected_fragments)
    for key, fragment in expected_fragments.items():
        assert fragment in found[key], (key, found[key])
    assert ingested.rejected == len(expected_fragments)


def test_reingesting_does_not_duplicate_rejects(ingested, messy: Path, database_url: str) -> None:
    from flows.ingest import ingest

    before = rejects(database_url)
    again = ingest(
        messy / "manifests", messy / "calls.csv", str(messy / "audio"), day=DAY, database_url=database_url
    )
    assert again.rows_inserted == 0
    assert rejects(database_url) == before


def test_fixing_a_file_clears_its_rejects(ingested, messy: Path, database_url: str, tmp_path: Path) -> None:
    from flows.ingest import ingest

    fixed = tmp_path / "audio"
    shutil.copytree(messy / "audio", fixed)
    sf.write(fixed / "garbage.wav", np.zeros(800, dtype="float32"), 8000)
    sf.write(fixed / "missing.wav", np.zeros(800, dtype="float32"), 8000)
    ingest(messy / "manifests", messy / "calls.csv", str(fixed), day=DAY, database_url=database_url)
    found = rejects(database_url)
    assert ("garbage.wav", "file") not in found and ("missing.wav", "file") not in found
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select count(*) from raw.audio_files").fetchone()[0] == 3


def test_cli_says_what_to_fix_instead_of_a_traceback(messy: Path, tmp_path: Path, capsys) -> None:
    from cli.main import main

    code = main(
        [
            "run",
            "--manifests",
            str(tmp_path / "nowhere"),
            "--calls",
            str(messy / "calls.csv"),
            "--audio-root",
            str(messy / "audio"),
            "--date",
            DAY.isoformat(),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "manifests folder" in out and "does not exist" in out and "Traceback" not in out


def test_cli_db_url_prints_the_configured_database(database_url: str, capsys) -> None:
    from cli.main import main

    assert main(["db", "url"]) == 0
    assert capsys.readouterr().out.strip() == database_url
