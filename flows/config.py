"""One configuration object for the whole pipeline.

Every value comes from an environment variable prefixed ``CALLAUDIT_`` (or a ``.env`` file at the
repository root); the defaults below are the documented behaviour of a fresh checkout.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from inference.asr_model import BEAM_SIZE, BUNDLED_MODEL, LM_ALPHA, LM_BETA

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLAUDIT_", env_file=REPO_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL of the warehouse. Unset: an embedded PostgreSQL + pgvector is started.",
    )
    state_dir: Path = Field(
        default=REPO_ROOT / ".state",
        description="Where the embedded database, Prefect's home, GX data docs and the audio cache live.",
    )
    timezone: str = Field(default="Africa/Casablanca", description="The deployment's time zone (IANA).")
    default_country_code: str = Field(default="212", description="Country code for national phone numbers.")
    national_number_length: int = Field(
        default=9, description="Digits of a national number without its trunk prefix 0 (9 for MA and FR)."
    )
    contract_file: Path = Field(
        default=REPO_ROOT / "config" / "contract.toml",
        description="Header mappings and audited status of the input contract.",
    )
    manifests_dir: Path | None = Field(default=None, description="Folder of manifests for scheduled runs.")
    calls_file: Path | None = Field(default=None, description="calls.csv for scheduled runs.")
    audio_root: str | None = Field(
        default=None, description="Local folder or s3://bucket/prefix of recordings."
    )
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, moto…).")
    aws_access_key_id: str | None = Field(default=None, validation_alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(default=None, validation_alias="AWS_SECRET_ACCESS_KEY")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_DEFAULT_REGION")
    report_dir: str | None = Field(
        default=None,
        description="Folder or s3://bucket/prefix where the daily flow writes the day's report. "
        "Unset: <state_dir>/reports.",
    )
    audio_workers: int = Field(default=2, description="Parallel readers for audio metadata.")
    max_recording_s: float = Field(
        default=3600.0,
        gt=0,
        description="Longest recording analysed (seconds); a longer one is quarantined as unanalysable "
        "(ops.rejects) and its order goes to review. Bounds ASR time and the transcript sent to the LLM.",
    )
    llm_max_transcript_chars: int = Field(
        default=20_000,
        ge=100,
        description="Most characters of a redacted transcript sent in one LLM request; a longer one is cut "
        "(its start and its end kept) and the request is flagged transcript_truncated in raw.llm_calls.",
    )
    earliest_date: date = Field(
        default=date(2000, 1, 1),
        description="Earliest date or call start accepted in manifests and call records; an earlier one "
        "quarantines its row (ops.rejects).",
    )
    latest_date: date = Field(
        default=date(2099, 12, 31),
        description="Latest date or call start accepted in manifests and call records; a later one "
        "quarantines its row (ops.rejects).",
    )
    run_gx: bool = Field(default=True, description="Run the Great Expectations checkpoint at the end.")
    asr_model: str = Field(
        default=str(BUNDLED_MODEL),
        description="A .nemo file or a pretrained NeMo name (stt_fr_conformer_ctc_large: needs the hub). "
        "The bundled model only knows synthetic French: real calls need a real checkpoint.",
    )
    asr_chunk_s: float = Field(default=25.0, description="ASR chunk length from the speech onset (seconds).")
    asr_overlap_s: float = Field(default=0.5, description="Overlap between consecutive ASR chunks (seconds).")
    asr_batch_size: int = Field(default=8, description="Chunks per model call, across calls.")
    asr_speech_only: bool = Field(
        default=True,
        description="Transcribe only each channel's speech spans (voice activity), not line noise or the "
        "silence of the side that is listening.",
    )
    asr_workers: int = Field(default=2, description="Worker processes for ASR, each loads the model once.")
    asr_device: str = Field(default="auto", description="auto (CUDA when present), cpu or cuda.")
    asr_lm: str = Field(
        default="auto",
        description="CTC beam search with an ARPA n-gram LM over the model's tokens: a path; none for greedy "
        "decoding; auto: the bundled LM with the bundled model, greedy with any other model.",
    )
    asr_lm_alpha: float = Field(default=LM_ALPHA, ge=0, description="Weight of the LM in the beam search.")
    asr_lm_beta: float = Field(default=LM_BETA, description="Bonus per emitted token in the beam search.")
    asr_beam_size: int = Field(default=BEAM_SIZE, ge=1, description="Beams kept by the LM beam search.")
    asr_decoder: Literal["ctc", "rnnt"] | None = Field(
        default=None,
        description="Decoder of a hybrid RNNT-CTC checkpoint (ctc or rnnt); unset: the checkpoint's own.",
    )
    vault_key: SecretStr | None = Field(
        default=None,
        description="Base64 32-byte key encrypting the PII vault (callaudit vault new-key). "
        "Unset: a demo key is made in <state_dir>/vault.key.",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="Base64 32-byte key of the customers' pseudonyms in the marts (client_pseudonym, an HMAC "
        "of the number). Unset: derived from the vault key, so a vault rotation changes every pseudonym.",
    )
    redact_languages: tuple[str, ...] = Field(
        default=("fr", "en"), description="spaCy pipelines for redaction."
    )
    redact_keep: tuple[str, ...] = Field(
        default=("Atlas Télécom",),
        description="Names never redacted: your company (it also helps spot 'X de <company>' introductions).",
    )
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="sentence-transformers model for transcript embeddings (the packaged MiniLM by default; "
        "a multilingual model's folder or hub name replaces it).",
    )
    embedding_device: str = Field(default="auto", description="auto (CUDA when present), cpu or cuda.")
    similarity_threshold: float = Field(
        default=0.9, description="Cosine similarity from which two transcripts are 'similar' (dbt var)."
    )
    classification_min_confidence: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="Probability from which the offline classifier's call type is evidence for rule 4 (dbt "
        "var); below it the order needs review. Calibrated on the classifier's held-out training calls "
        "(models/classifier/metrics.json, trust.threshold; "
        "python -m training.classifier_train --calibrate).",
    )
    llm_config: Path = Field(
        default=REPO_ROOT / "config" / "llm.yaml",
        description="litellm router file: routes, fallbacks, timeouts, retries, TPM/RPM budget.",
    )
    llm_model: str = Field(
        default="classifier",
        description="Route (alias in llm_config) that classifies calls; default: the offline local model.",
    )

    task_runner: str = Field(
        default="threads",
        pattern="^(threads|dask|ray)$",
        description="Where the per-call stages run: threads (this process), dask or ray (a cluster).",
    )
    cluster_address: str | None = Field(
        default=None,
        description="Scheduler of an existing Dask (tcp://host:8786) or Ray (ray://host:10001) cluster. "
        "Unset with dask: a local cluster of dask_workers processes is started for the run.",
    )
    dask_workers: int = Field(default=2, ge=1, description="Worker processes of the local Dask cluster.")
    shards: int = Field(
        default=0,
        ge=0,
        description="Tasks each per-call stage is split into (by a hash of the call's recording). "
        "0: 1 with threads, the number of workers with a local Dask cluster, 4 on a remote cluster.",
    )
    serve_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="callaudit serve: seconds the flow runs in flight get to finish after Ctrl-C "
        "(or SIGTERM) before they are cancelled; a second Ctrl-C stops at once.",
    )
    dbt_node_tasks: bool = Field(
        default=True,
        description="dbt-build shows every model, seed and data test as a Prefect task of its own "
        "(prefect-dbt). false: one dbt invocation inside the dbt-build flow, which logs its node count and "
        "names any failed node (242 nodes: about 5 s instead of 25 s on 2 cores once parsed; a quarter's "
        "backfill makes no 22,000 task runs).",
    )
    llm_concurrency: int = Field(default=4, ge=1, description="Global limit: classification stages at once.")
    gpu_concurrency: int = Field(default=1, ge=1, description="Global limit: GPU stages at once per pool.")
    backfill_concurrency: int = Field(default=2, ge=1, description="Global limit: backfill days at once.")

    @property
    def pgdata(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        """Where libraries' own logs go (NeMo's config dumps…), keeping the terminal for progress."""
        return self.state_dir / "logs" / "callaudit.log"

    @property
    def report_folder(self) -> str:
        return self.report_dir or str(self.state_dir / "reports")

    @property
    def audio_cache(self) -> Path:
        return self.state_dir / "audio-cache"

    @property
    def gx_dir(self) -> Path:
        return self.state_dir / "gx"

    @property
    def dbt_target_dir(self) -> Path:
        return self.state_dir / "dbt-target"

    def contract(self) -> Contract:
        return load_contract(self.contract_file)


class Contract:
    """The input contract of ``config/contract.toml``: header maps, audited status, call columns."""

    def __init__(self, data: dict) -> None:
        self.headers: dict[str, dict[str, str]] = {
            kind: {header: canonical for canonical, header in mapping.items()}
            for kind, mapping in data["headers"].items()
        }
        self.audited_status: str = data["manifests"]["audited_status"]
        self.required_columns: list[str] = list(data["manifests"]["required_columns"])
        self.types: list[str] = list(data["manifests"]["types"])
        self.offers: list[str] = list(data["manifests"]["offers"])
        self.call_columns: list[str] = list(data["calls"]["columns"])


@lru_cache(maxsize=8)
def load_contract(path: Path) -> Contract:
    with open(path, "rb") as fh:
        return Contract(tomllib.load(fh))


def get_settings() -> Settings:
    return Settings()
