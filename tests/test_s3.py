"""Recordings under s3://bucket/prefix through prefect-aws, against a real local S3 API (moto's server)."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import psycopg
import pytest

from tests.conftest import DAY

pytestmark = pytest.mark.usefixtures("prefect_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> str:
    port = _free_port()
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    proc = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    yield endpoint
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str, dataset: Path, monkeypatch_module) -> str:
    for key, value in {
        "CALLAUDIT_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch_module.setenv(key, value)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="recordings")
    for path in (dataset / "audio").rglob("*"):
        if path.is_file():
            key = "calls/2026/" + path.relative_to(dataset / "audio").as_posix()
            client.upload_file(str(path), "recordings", key)
    return "s3://recordings/calls/2026"


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_audio_metadata_from_s3_matches_the_bytes(bucket: str, dataset: Path, database_url: str) -> None:
    from flows.ingest import ingest

    summary = ingest(dataset / "manifests", dataset / "calls.csv", bucket, day=DAY, database_url=database_url)
    assert summary.audio.rejected == 0 and summary.audio.rows > 0
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select audio_path, sha256, audio_root, sample_rate from raw.audio_files"
        ).fetchall()
        referenced = conn.execute("select count(distinct audio_path) from raw.calls").fetchone()[0]
    assert len(rows) == referenced == summary.audio.rows
    for audio_path, sha, root, rate in rows:
        assert root == bucket
        assert sha == hashlib.sha256((dataset / "audio" / audio_path).read_bytes()).hexdigest()
        assert rate in (8000, 16000)


def test_second_s3_ingest_downloads_nothing(bucket: str, dataset: Path, database_url: str) -> None:
    from flows.config import get_settings
    from flows.ingest import ingest

    cache = get_settings().audio_cache
    files = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    assert files, "the first ingest cached what it downloaded"
    summary = ingest(dataset / "manifests", dataset / "calls.csv", bucket, day=DAY, database_url=database_url)
    assert summary.audio.status == "unchanged" and summary.audio.rows == 0
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == files
