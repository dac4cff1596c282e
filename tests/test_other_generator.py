"""Rules 1–3 against a ground truth from a second, independent generator (not ``synth``).

The data set below follows DESIGN.md's input contract with phrasings the project's own generator does
not use: other header case/spacing/order and an extra column, three file encodings (UTF-8 ``,`` CSV,
cp1252 ``;`` CSV, XLSX with datetime cells), five phone formats (calls.csv never uses the manifest's),
four start_time offsets with fractional seconds, status and motif variants, duplicated listings and
the rule boundaries (119:59 / 120:00 / 121 min gaps, 2 vs 3 attempts, the day window in local time).
The truth is computed here in plain Python from the generator's own model, never from the files.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest
import soundfile

from tests.conftest import DAY, exported

pytestmark = pytest.mark.usefixtures("prefect_api")

TZ = ZoneInfo("Africa/Casablanca")  # UTC+1 in November 2026
BRANCH = {
    ("SAV", "ADSL"): "ADSL_SAV",
    ("SAV", "VULA"): "FTTH_VULA_SAV",
    ("ACQUISITION", "ADSL"): "ADSL_INSTALL",
    ("ACQUISITION", "VULA"): "FTTH_VULA_INSTALL",
}
# The generator's own classification of the motifs it writes (DESIGN.md: injoignable needs 3, others 1).
MIN_ATTEMPTS = {
    "Injoignable": 3,
    "INJOIGNABLE": 3,
    "client injoignable (3 appels)": 3,
    "Refus client": 1,
    "Client refuse l'installation": 1,
    "RDV reporté par le client": 1,
    "Client absent au RDV": 1,
    "Problème technique": 1,
}
AUDITED = {"Suspendu", "SUSPENDU", " suspendu ", " SUSPENDU "}
NOT_AUDITED = {"Clôturé", "En attente"}
D = DAY


def local(day: date, h: int = 0, m: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime.combine(day, time(h, m, s, us), tzinfo=TZ)


def series(start: datetime, *gaps_s: float) -> list[datetime]:
    out = [start]
    for gap in gaps_s:
        out.append(out[-1] + timedelta(seconds=gap))
    return out


# ---------------------------------------------------------------------------------------------- model
@dataclass
class Call:
    at: datetime
    branch: str | None = None  # None: the order's expected branch
    to: tuple[str, str] | None = None  # (text in calls.csv, E.164 digits) of another number
    ts_fmt: int | None = None  # start_time rendering; None: rotate
    audio: str = "wav"  # wav | flac | stereo | missing | garbage


@dataclass
class Order:
    order_type: str
    order_id: str
    national: str  # 9 digits
    ordered_on: date
    suspended_on: date
    motif: str
    listings: list[tuple[str, str]]  # (offer of the file, status) per manifest row
    calls: list[Call | datetime] = field(default_factory=list)
    date_fmt: str = "dmy"  # dmy | iso | dmy_hm (CSV); XLSX always writes datetime cells

    @property
    def e164(self) -> str:
        return "212" + self.national

    @property
    def audited(self) -> bool:
        return any(status in AUDITED for _, status in self.listings)


def A(oid: str, n: str, o: date, s: date, motif: str, calls=(), status="Suspendu", **kw) -> Order:  # noqa: N802
    listings = kw.pop("listings", [("ADSL", status)])
    return Order("ACQUISITION", oid, n, o, s, motif, listings, list(calls), **kw)


def scenarios() -> list[Order]:
    d1, d2, d3 = D - timedelta(days=1), D - timedelta(days=2), D - timedelta(days=3)
    acq_adsl = [
        A("CMD-100001", "612340001", d3, d1, "Refus client", [Call(local(d2, 10, 15), audio="missing")]),
        A(
            "CMD-100002",
            "612340002",
            d2,
            D,
            "Injoignable",
            [Call(t, ts_fmt=i) for i, t in enumerate(series(local(d1, 9, 0, 0, 250000), 7200, 7260))],
        ),
        A("CMD-100003", "612340003", d2, D, "INJOIGNABLE", series(local(d1, 8, 30), 7199, 9000)),
        A("CMD-100004", "612340004", d1, D, "client injoignable (3 appels)", series(local(D, 9), 7260)),
        A(
            "CMD-100005",
            "612340005",
            d2,
            d1,
            "Client absent au RDV",
            [Call(local(d1, 14), branch="ADSL_SAV")],
        ),
        A(
            "CMD-100006",
            "612340006",
            d2,
            D,
            "Refus client",
            series(local(d1, 9), 10800),
            listings=[("ADSL", "Suspendu"), ("ADSL", "Suspendu")],
        ),
        A("CMD-100007", "612340007", d2, D, "Refus client", [local(d1, 10)], status="Clôturé"),
        A("CMD-100008", "612340008", d2, D, "Injoignable", [], status="En attente"),
        # the day window, in local time: 23:59 the day before (22:59Z), 23:59 on suspended_on (22:59Z),
        # 00:00:30 the day after (23:00:30Z on suspended_on's UTC date)
        A(
            "CMD-100009",
            "612340009",
            d2,
            d1,
            "RDV reporté par le client",
            [
                Call(local(d2) - timedelta(minutes=1), branch="FTTH_VULA_INSTALL", ts_fmt=1),
                Call(local(d1, 23, 59), ts_fmt=1),
                Call(local(D, 0, 0, 30), branch="FTTH_VULA_INSTALL", ts_fmt=1),
            ],
        ),
        # calls to other numbers: the same national digits in France, and an unrelated number
        A(
            "CMD-100010",
            "612340010",
            d2,
            D,
            "Client refuse l'installation",
            [
                Call(local(d1, 10), to=("+33 6 12 34 00 10", "33612340010")),
                Call(local(d1, 11), to=("06 99 99 99 10", "212699999910")),
            ],
        ),
        A("CMD-100011", "612340011", d1, D, "Injoignable", []),
        # 00:30 local on ordered_on is 23:30Z the day before: included
        A(
            "CMD-100012",
            "612340012",
            d1,
            D,
            "Refus client",
            [Call(local(d1, 0, 30), ts_fmt=1)],
            status="SUSPENDU",
        ),
        A(
            "CMD-100013",
            "612340013",
            D,
            D,
            "Client absent au RDV",
            [Call(t, ts_fmt=2) for t in series(local(D, 0, 0), 7200)],
        ),
        # shares its client with TCK-200004: each order sees the other's call too
        A("CMD-100014", "612340014", d2, D, "Refus client", [local(d1, 9)]),
        # listed in both ACQUISITION files: a branch wrong for either offer, so the winner does not matter
        A(
            "CMD-100015",
            "612340015",
            d2,
            D,
            "Client absent au RDV",
            [Call(local(d1, 16), branch="FTTH_VULA_SAV")],
            listings=[("ADSL", "Suspendu"), ("VULA", "Suspendu")],
        ),
    ]
    acq_vula = [
        A(
            "CMD-300001",
            "662340001",
            d3,
            D,
            "Injoignable",
            series(local(d2, 9), 7200, 9000, 12000),
            listings=[("VULA", "Suspendu")],
            date_fmt="iso",
        ),
        A(
            "CMD-300002",
            "662340002",
            d2,
            D,
            "Refus client",
            [local(d1, 10), Call(local(d1, 11), branch="ADSL_INSTALL")],
            listings=[("VULA", " suspendu ")],
        ),
        A(
            "CMD-300003",
            "662340003",
            d2,
            D,
            "RDV reporté par le client",
            [local(d2, 8), local(D, 20)],
            listings=[("VULA", "Suspendu")],
            date_fmt="dmy_hm",
        ),
        A(
            "CMD-300004",
            "662340004",
            d2,
            D,
            "Injoignable",
            series(local(d1, 8), 7200, 7200),
            listings=[("VULA", "Suspendu")],
            date_fmt="iso",
        ),
        A(
            "CMD-300005",
            "662340005",
            d2,
            D,
            "client injoignable (3 appels)",
            [Call(t, ts_fmt=3) for t in series(local(d1, 9, 0, 0, 500000), 7200, 7199.999)],
            listings=[("VULA", "Suspendu")],
        ),
    ]

    def S(oid, n, o, s, motif, calls=(), offer="ADSL", statuses=("Suspendu",), **kw) -> Order:  # noqa: N802
        return Order("SAV", oid, n, o, s, motif, [(offer, st) for st in statuses], list(calls), **kw)

    sav_adsl = [
        S(
            "TCK-200001",
            "522340001",
            d2,
            D,
            "Client refuse l'installation",
            [Call(local(d1, 10), audio="garbage")],
        ),
        S(
            "TCK-200002",
            "522340002",
            d2,
            D,
            "Injoignable",
            series(local(d1, 9), 7200, 7199.5),
            date_fmt="iso",
        ),
        S(
            "TCK-200003",
            "522340003",
            d2,
            D,
            "Client absent au RDV",
            [Call(local(d1, 12), branch="FTTH_VULA_SAV")],
        ),
        S("TCK-200004", "612340014", d1, D, "Client absent au RDV", [local(d1, 15)]),
        S("TCK-200005", "522340005", d2, D, "Refus client", [local(d1, 10)], statuses=("Clôturé",)),
        S("TCK-200006", "522340006", d1, D, "Injoignable", series(local(D, 8), 7800), date_fmt="dmy_hm"),
        S(
            "TCK-200007",
            "522340007",
            d2,
            D,
            "Refus client",
            [Call(local(d1, 17), audio="flac")],
            statuses=("Suspendu", "En attente"),
        ),
    ]
    sav_vula = [
        S("TCK-400001", "672340001", d2, D, "Injoignable", series(local(d1, 9), 7200, 7200), offer="VULA"),
        S(
            "TCK-400002",
            "672340002",
            d1,
            d1,
            "Refus client",
            [
                Call(local(d1, 23, 59), ts_fmt=1),
                Call(local(D, 0, 0), branch="ADSL_SAV", ts_fmt=1),
                Call(local(D, 0, 0, 30), branch="ADSL_SAV", ts_fmt=3),
            ],
            offer="VULA",
        ),
        S(
            "TCK-400003",
            "672340003",
            d2,
            D,
            "RDV reporté par le client",
            [Call(local(d1, 11), branch="ADSL_SAV", audio="stereo")],
            offer="VULA",
        ),
        S(
            "TCK-400004",
            "672340004",
            d2,
            D,
            "Client absent au RDV",
            [],
            offer="VULA",
            statuses=(" SUSPENDU ",),
        ),
        S(
            "TCK-400005",
            "672340005",
            d2,
            D,
            "Injoignable",
            [local(d1, 10)],
            offer="VULA",
            statuses=("En attente",),
        ),
        S("TCK-400006", "672340006", d2, D, "Injoignable", series(local(d1, 8), 7260, 7199), offer="VULA"),
        S("TCK-400007", "672340007", d2, D, "Problème technique", [local(d1, 13)], offer="VULA"),
    ]
    return acq_adsl + acq_vula + sav_adsl + sav_vula


# ---------------------------------------------------------------------------------------------- rendering
def phone_text(national: str, fmt: int) -> str:
    pairs = [national[i : i + 2] for i in range(1, 9, 2)]
    return [
        "0" + national,
        f"+212 {national[0]} {' '.join(pairs)}",
        "00212" + national,
        "212" + national,
        f"0{national[0]}-{'-'.join(pairs)}",
    ][fmt % 5]


def start_time_text(at: datetime, fmt: int) -> str:
    zone = [TZ, UTC, UTC, timezone(timedelta(hours=-5))][fmt % 4]
    spec = "seconds" if not at.microsecond else "microseconds" if at.microsecond % 1000 else "milliseconds"
    text = at.astimezone(zone).isoformat(timespec=spec)
    return text.replace("+00:00", "Z") if fmt % 4 == 1 else text


def date_text(day: date, fmt: str, clock: time) -> str:
    if fmt == "iso":
        return f"{day:%Y-%m-%d}"
    if fmt == "dmy_hm":
        return f"{day:%d/%m/%Y} {clock:%H:%M}"
    return f"{day:%d/%m/%Y}"


HEADERS = {  # (canonical or extra, header as written); order and spelling differ per file
    ("ACQUISITION", "ADSL"): [
        ("comment", "Commentaire"),
        ("status", "Statut"),
        ("order_id", "N° commande"),
        ("client_number", " Numéro client "),
        ("ordered_on", "Date Commande"),
        ("offer", "Offre"),
        ("suspended_on", "DATE SUSPENSION"),
        ("motif", "Motif suspension"),
    ],
    ("ACQUISITION", "VULA"): [
        ("order_id", "N°  Commande"),
        ("motif", "motif suspension"),
        ("suspended_on", "Date suspension"),
        ("ordered_on", "date commande"),
        ("client_number", "NUMERO CLIENT"),
        ("status", "STATUT"),
        ("offer", "Offre"),
    ],
    ("SAV", "ADSL"): [
        ("offer", "Offre"),
        ("client_number", " MSISDN "),
        ("order_id", "Num ticket"),
        ("status", "ETAT"),
        ("ordered_on", "Date création"),
        ("suspended_on", "Date Suspension"),
        ("motif", "Motif"),
        ("comment", "Commentaire"),
    ],
    ("SAV", "VULA"): [
        ("order_id", "NUM TICKET"),
        ("ordered_on", "Date Creation"),
        ("suspended_on", "date suspension"),
        ("client_number", "Msisdn"),
        ("motif", "MOTIF"),
        ("status", "Etat"),
        ("comment", "Commentaire"),
        ("offer", "Offre"),
    ],
}
COMMENTS = ["", "Client très mécontent; rappeler, svp", "voir note\nsur deux lignes", "RAS", "café « fermé »"]


@dataclass
class CallRow:
    call_id: str
    e164: str
    at: datetime
    branch: str
    audio_path: str


@dataclass
class Generated:
    orders: list[Order]
    calls: list[CallRow]
    bad_audio: set[str]


def write_manifests(folder: Path, orders: list[Order]) -> None:
    folder.mkdir(parents=True)
    rows: dict[tuple[str, str], list[dict]] = {key: [] for key in HEADERS}
    for index, order in enumerate(orders):
        for k, (offer, status) in enumerate(order.listings):
            xlsx = (order.order_type, offer) == ("SAV", "VULA")
            if xlsx:
                ordered = datetime.combine(order.ordered_on, time(15, 42) if index % 2 else time())
                suspended = datetime.combine(order.suspended_on, time(9, 5) if index % 2 else time())
            else:
                ordered = date_text(order.ordered_on, order.date_fmt, time(14, 35))
                suspended = date_text(order.suspended_on, order.date_fmt, time(9, 10))
            rows[(order.order_type, offer)].append(
                {
                    "order_id": order.order_id,
                    "client_number": phone_text(order.national, index + k),
                    "ordered_on": ordered,
                    "suspended_on": suspended,
                    "status": status,
                    "motif": order.motif,
                    "offer": {"ADSL": "ADSL 20 Mbps", "VULA": "Fibre VULA 100M"}[offer],
                    "comment": COMMENTS[(index + k) % len(COMMENTS)],
                }
            )
    stamp = f"{D:%Y%m%d}"
    for (order_type, offer), items in rows.items():
        columns = HEADERS[(order_type, offer)]
        table = [[h for _, h in columns]] + [[r[c] for c, _ in columns] for r in items]
        name = f"{order_type}_{offer}_{stamp}"
        if order_type == "ACQUISITION":
            with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, delimiter=",").writerows(table)
        elif offer == "ADSL":
            with open(folder / f"{name}.csv", "w", encoding="cp1252", newline="") as fh:
                csv.writer(fh, delimiter=";").writerows(table)
        else:
            import openpyxl

            workbook = openpyxl.Workbook()
            sheet = workbook.active
            for line in table:
                sheet.append(line)
            workbook.save(folder / f"{name}.xlsx")
    # a manifest of another day: the run for DAY must not audit it
    other = HEADERS[("ACQUISITION", "ADSL")]
    with open(
        folder / f"ACQUISITION_ADSL_{D - timedelta(days=1):%Y%m%d}.csv", "w", encoding="utf-8", newline=""
    ) as fh:
        values = {
            "order_id": "CMD-999001",
            "client_number": "0612349991",
            "ordered_on": "18/11/2026",
            "suspended_on": "19/11/2026",
            "status": "Suspendu",
            "motif": "Refus client",
            "offer": "ADSL",
            "comment": "",
        }
        csv.writer(fh).writerows([[h for _, h in other], [values[c] for c, _ in other]])


def write_audio(root: Path, relative: str, kind: str, rng: np.random.Generator) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "missing":
        return
    if kind == "garbage":
        path.write_bytes(rng.bytes(2048))
        return
    rate, channels = (16_000, 2) if kind == "stereo" else (8_000, 1)
    noise = (rng.standard_normal((rate // 2, channels)) * 0.01).astype(np.float32)
    soundfile.write(
        path,
        noise if channels > 1 else noise[:, 0],
        rate,
        subtype="PCM_16",
        format="FLAC" if kind == "flac" else "WAV",
    )


def generate(out: Path) -> Generated:
    rng = np.random.default_rng(20261120)
    shuffle = random.Random(20261120)
    orders = scenarios()
    write_manifests(out / "manifests", orders)
    calls: list[CallRow] = []
    lines: list[dict] = []
    bad: set[str] = set()
    number = 0
    for index, order in enumerate(orders):
        for raw in order.calls:
            call = raw if isinstance(raw, Call) else Call(raw)
            number += 1
            call_id = f"CALL-{number:04d}"
            branch = call.branch or BRANCH[(order.order_type, order.listings[0][0])]
            text, e164 = call.to or (phone_text(order.national, index + 2), order.e164)
            ext = "flac" if call.audio == "flac" else "wav"
            relative = f"{call.at.astimezone(TZ):%Y/%m/%d}/{branch.lower()}/{call_id}.{ext}"
            write_audio(out / "audio", relative, call.audio, rng)
            if call.audio in ("missing", "garbage"):
                bad.add(relative)
            calls.append(CallRow(call_id, e164, call.at, branch, relative))
            lines.append(
                {
                    "start_time": start_time_text(call.at, number if call.ts_fmt is None else call.ts_fmt),
                    "client_number": text,
                    "call_id": call_id,
                    "notes": ["", "rappel, 2e essai", "ok"][number % 3],
                    "duration_s": ["37.5", "12", "61.25", "0.5", "180"][number % 5],
                    "audio_path": relative,
                    "branch": branch,
                    "caller_number": phone_text(f"5{number % 10}9000{number % 100:03d}", number + 1),
                }
            )
    # calls to clients that no manifest lists
    for k in range(4):
        number += 1
        call_id, at = f"CALL-{number:04d}", local(D - timedelta(days=1), 9 + k)
        relative = f"{at:%Y/%m/%d}/adsl_sav/{call_id}.wav"
        write_audio(out / "audio", relative, "wav", rng)
        lines.append(
            {
                "start_time": start_time_text(at, k),
                "client_number": phone_text(f"70000000{k}", k),
                "call_id": call_id,
                "notes": "",
                "duration_s": "20",
                "audio_path": relative,
                "branch": "ADSL_SAV",
                "caller_number": "0522000001",
            }
        )
    shuffle.shuffle(lines)
    columns = [
        "start_time",
        "client_number",
        "call_id",
        "notes",
        "duration_s",
        "audio_path",
        "branch",
        "caller_number",
    ]
    with open(out / "calls.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(lines)
    return Generated(orders, calls, bad)


# ---------------------------------------------------------------------------------------------- truth
def truth(generated: Generated) -> dict[tuple[str, str], tuple[list[str], bool, bool, bool]]:
    """(order_type, order_id) → (attempt call_ids in order, branch_ok, attempts_ok, gap_ok), by DESIGN.md."""
    out = {}
    for order in generated.orders:
        if not order.audited:
            continue
        start = local(order.ordered_on)
        end = local(order.suspended_on + timedelta(days=1))
        attempts = sorted(
            (c for c in generated.calls if c.e164 == order.e164 and start <= c.at < end),
            key=lambda c: (c.at, c.call_id),
        )
        offers = {offer for offer, status in order.listings if status in AUDITED}
        branch_verdicts = {all(c.branch == BRANCH[(order.order_type, o)] for c in attempts) for o in offers}
        assert len(branch_verdicts) == 1, f"{order.order_id}: verdict would depend on which listing wins"
        gaps = [(b.at - a.at).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
        key = (order.order_type, order.order_id)
        assert key not in out, f"generator lists {key} as two orders"
        out[key] = (
            [c.call_id for c in attempts],
            branch_verdicts.pop(),
            len(attempts) >= MIN_ATTEMPTS[order.motif],
            all(g >= 7200 for g in gaps),
        )
    return out


# ---------------------------------------------------------------------------------------------- tests
@pytest.fixture(scope="module")
def other_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Generated]:
    out = tmp_path_factory.mktemp("other-generator")
    return out, generate(out)


# The mart of rules 1-3 and everything it reads (models and seeds); no data or unit test (dbt's indirect
# selection "empty"), no other mart: the whole build and the GX checkpoint run on the shared warehouse.
RULES_1_TO_3_MODELS = "+order_compliance"


@dataclass
class Loaded:
    ingest: Any  # flows.ingest's IngestSummary
    analysed: Any  # flows.audio's StageResult


@pytest.fixture(scope="module")
def run(other_set, database_url: str) -> Loaded:
    """What rules 1-3 need of the daily flow on this data set: ingest, the audio analysis (its recordings
    must not add a reject) and the dbt models up to ``order_compliance``. No ASR, classification or
    embeddings: rules 1-3 read none of them."""
    from flows.audio import analyse_audio
    from flows.config import get_settings
    from flows.ingest import ingest
    from flows.transform import dbt_build

    folder, _ = other_set
    loaded = ingest(
        folder / "manifests", folder / "calls.csv", str(folder / "audio"), day=DAY, database_url=database_url
    )
    analysed = analyse_audio(database_url, get_settings())
    with exported(DBT_INDIRECT_SELECTION="empty"):
        dbt_build(database_url, select=RULES_1_TO_3_MODELS)
    return Loaded(loaded, analysed)


def test_generator_writes_the_variants_it_claims(other_set) -> None:
    folder, generated = other_set
    acq = (folder / "manifests" / f"ACQUISITION_ADSL_{D:%Y%m%d}.csv").read_bytes()
    assert not acq.startswith(b"\xef\xbb\xbf") and "N° commande".encode() in acq
    sav = (folder / "manifests" / f"SAV_ADSL_{D:%Y%m%d}.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        sav.decode("utf-8")
    assert sav.decode("cp1252").splitlines()[0].count(";") == 7
    import openpyxl

    sheet = openpyxl.load_workbook(folder / "manifests" / f"SAV_VULA_{D:%Y%m%d}.xlsx").active
    assert isinstance(sheet.cell(row=2, column=2).value, datetime)
    calls = list(csv.DictReader(io.StringIO((folder / "calls.csv").read_text("utf-8"))))
    stamps = " ".join(r["start_time"] for r in calls)
    assert all(s in stamps for s in ("+01:00", "Z", "+00:00", "-05:00", ".250", ".500"))
    assert any(r["client_number"].startswith("+212 ") for r in calls)
    assert any(r["client_number"].startswith("00212") for r in calls)
    assert any(r["client_number"].count("-") == 4 for r in calls)
    expected = truth(generated)
    for index in (1, 2, 3):  # every rule both holds and fails somewhere
        assert {v[index] for v in expected.values()} == {True, False}
    assert 25 <= len(expected) <= 35


def test_rules_1_to_3_equal_the_independent_truth(run, other_set, database_url: str) -> None:
    _, generated = other_set
    expected = truth(generated)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """select order_type, order_id, attempts, is_branch_ok, is_attempts_ok, is_gap_ok
               from marts.order_compliance"""
        ).fetchall()
    got = {(t, o): (a, b, n, g) for t, o, a, b, n, g in rows}
    assert len(rows) == len(got)
    assert set(got) == set(expected), (
        f"missing: {sorted(set(expected) - set(got))}, unexpected: {sorted(set(got) - set(expected))}"
    )
    mismatches = {
        key: {"pipeline": got[key], "truth": (len(t[0]), *t[1:])}
        for key, t in expected.items()
        if got[key] != (len(t[0]), *t[1:])
    }
    assert not mismatches


def test_attempts_are_exactly_the_calls_of_the_truth(run, other_set, database_url: str) -> None:
    _, generated = other_set
    expected = {f"{t}:{o}": v[0] for (t, o), v in truth(generated).items() if v[0]}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select order_key, call_id from marts.call_attempts order by order_key, attempt_number"
        ).fetchall()
    got: dict[str, list[str]] = {}
    for key, call_id in rows:
        got.setdefault(key, []).append(call_id)
    assert got == expected


def test_only_the_two_bad_recordings_are_quarantined(run, other_set, database_url: str) -> None:
    folder, generated = other_set
    with psycopg.connect(database_url) as conn:
        rejects = conn.execute("select source_kind, source, location, reason from ops.rejects").fetchall()
        described = conn.execute("select count(*) from raw.audio_files").fetchone()[0]
        calls = conn.execute("select count(*) from raw.calls").fetchone()[0]
    assert {(kind, source) for kind, source, _, _ in rejects} == {("audio", p) for p in generated.bad_audio}
    assert len(rejects) == 2 and all(reason for *_, reason in rejects)
    lines = len(list(csv.DictReader(io.StringIO((folder / "calls.csv").read_text("utf-8")))))
    assert calls == lines and described == lines - 2
    assert run.ingest.rejected == 2  # what the ingest counted
    assert run.analysed.processed > 0 and run.analysed.rejected == 0  # the analysis adds none
