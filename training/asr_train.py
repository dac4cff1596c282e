"""Reproducible training recipe for the bundled French CTC model (synthetic espeak-ng speech).

    python -m training.asr_train --out models/asr --preset small --steps 2000 --utterances 3000 --seed 7

Steps: synthesise the corpus with espeak-ng (many French voices, speeds, pitches), augment (telephone
band, G.711 mu-law, noise, reverberation, volume), write 16 kHz WAVs and NeMo manifests, train with one
torch thread, save the ``.nemo`` and evaluate four held-out sets into ``metrics.json``.

On a CUDA machine the same recipe trains on the GPU; there ``--workers`` renders with more processes,
``--loader-workers`` feeds the GPU, ``--train-until`` (a unix time) bounds rendering and training by the
clock, and ``--lr-by-time`` spreads the warm-up + cosine schedule over that time instead of ``--steps``:

    python -m training.asr_train --out /tmp/out --seed 31 --utterances 40000 --batch-size 64 \
        --steps 1000000 --workers 16 --loader-workers 12 --render-until T1 --train-until T2 --lr-by-time

One module (about 600 lines) for the whole recipe: corpus, rendering, training loop, evaluation and the
metrics file; its source is hashed into ``metrics.json`` (``recipe_sha256``) with the corpus modules, so
the recipe a bundled model came from is one file to read.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass
from math import gcd
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from inference.asr_model import BUNDLED_MODEL, LABELS, error_rates, hypothesis_texts, normalize_text
from inference.hashing import file_sha256
from training import asr_corpus as corpus
from training import asr_corpus_broad as broad

SAMPLE_RATE = 16000
MODEL_NAME = BUNDLED_MODEL.name
EVAL_SIZE = 100
_SOURCES = (
    "inference/asr_model.py",
    "training/asr_corpus.py",
    "training/asr_corpus_broad.py",
    "training/asr_train.py",
)


@dataclass(frozen=True)
class Utterance:
    """One clip to render: text, voice and prosody, and how to degrade it."""

    key: str
    text: str
    voice: str
    speed: int
    pitch: int
    amplitude: int
    seed: int
    mode: str  # "augment" (training), "clean", or "telephone" (8 kHz mu-law file)


def espeak(text: str, voice: str, speed: int = 160, pitch: int = 50, amplitude: int = 100) -> np.ndarray:
    """Float32 mono audio at 16 kHz from espeak-ng (which renders at 22,050 Hz).

    The resampling ratio comes from the file's own rate: a fixed 44.1 kHz ratio once played every clip
    at twice its speed, leaving more characters than CTC frames, and the first model never converged.
    """
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude)]
        subprocess.run([*cmd, "-w", tmp.name, text], check=True, capture_output=True)
        audio, rate = sf.read(tmp.name, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = gcd(rate, SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, rate // g)
    return audio.astype(np.float32)


def band_pass(audio: np.ndarray, low: float = 300.0, high: float = 3400.0, rate: int = SAMPLE_RATE):
    sos = butter(4, [low, high], btype="bandpass", fs=rate, output="sos")
    return sosfilt(sos, audio).astype(np.float32)


def mulaw_round_trip(audio: np.ndarray) -> np.ndarray:
    """16 kHz -> 8 kHz G.711 mu-law (8-bit) -> 16 kHz."""
    narrow = np.clip(resample_poly(audio, 1, 2), -1.0, 1.0)
    encoded = np.round(np.sign(narrow) * np.log1p(255 * np.abs(narrow)) / np.log1p(255) * 127) / 127
    decoded = np.sign(encoded) * np.expm1(np.abs(encoded) * np.log1p(255)) / 255
    return resample_poly(decoded, 2, 1).astype(np.float32)


def reverberate(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rt60 = rng.uniform(0.08, 0.35)
    n = int(rt60 * SAMPLE_RATE)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir[0] = 1.0 / rng.uniform(0.2, 0.5)
    wet = fftconvolve(audio, ir / np.abs(ir).sum() * 4)[: len(audio)]
    return (audio + rng.uniform(0.15, 0.45) * wet).astype(np.float32)


def add_noise(audio: np.ndarray, rng: np.random.Generator, snr_db: float) -> np.ndarray:
    noise = rng.standard_normal(len(audio))
    if rng.random() < 0.5:  # brownish hum-like noise instead of white
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
    power = float(np.mean(audio**2)) + 1e-12
    noise *= np.sqrt(power / (10 ** (snr_db / 10)) / (np.mean(noise**2) + 1e-12))
    return (audio + noise).astype(np.float32)


def augment(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training degradation: telephone band / mu-law, reverberation, noise 10-35 dB, volume."""
    if rng.random() < 0.3:
        audio = reverberate(audio, rng)
    if rng.random() < 0.5:
        audio = band_pass(audio, rng.uniform(200, 400), rng.uniform(3200, 3600))
        if rng.random() < 0.7:
            audio = mulaw_round_trip(audio / (np.abs(audio).max() + 1e-9) * 0.8)
    if rng.random() < 0.7:
        audio = add_noise(audio, rng, rng.uniform(10, 35))
    return audio


def render(utt: Utterance, out_dir: Path) -> dict[str, Any] | None:
    """Render one utterance to a WAV file; returns its manifest row, or None when espeak-ng writes no
    audio for the text. A file left by an interrupted run is reused (rendering is deterministic)."""
    path = out_dir / f"{utt.key}.wav"
    row = {"audio_filepath": str(path), "text": normalize_text(utt.text)}
    if path.exists():
        info = sf.info(str(path))
        if info.frames:
            return {**row, "duration": round(info.frames / info.samplerate, 3)}
    rng = np.random.default_rng(utt.seed)
    try:
        audio = espeak(utt.text, utt.voice, utt.speed, utt.pitch, utt.amplitude)
    except sf.LibsndfileError:  # espeak-ng wrote an empty file: nothing to say for this text
        return None
    if not audio.size:
        return None
    pad = [np.zeros(int(rng.uniform(0.05, 0.3) * SAMPLE_RATE), np.float32) for _ in range(2)]
    audio = np.concatenate([pad[0], audio, pad[1]])
    if utt.mode == "augment":
        audio = augment(audio, rng)
    if utt.mode == "telephone":
        narrow = resample_poly(band_pass(audio), 1, 2)
        narrow = narrow / (np.abs(narrow).max() + 1e-9) * rng.uniform(0.3, 0.9)
        sf.write(path, narrow, SAMPLE_RATE // 2, subtype="ULAW")
        duration = len(narrow) / (SAMPLE_RATE // 2)
    else:
        audio = audio / (np.abs(audio).max() + 1e-9) * rng.uniform(0.1, 0.95)
        sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
        duration = len(audio) / SAMPLE_RATE
    return {**row, "duration": round(duration, 3)}


def _render_star(args: tuple[Utterance, Path]) -> dict[str, Any] | None:
    return render(*args)


def plan(
    name: str, texts: list[str], voices: list[corpus.Voice], seed: int, mode: str, clean_share: float = 0.0
) -> list[Utterance]:
    """Deterministic voice/prosody choices for a list of sentences; ``clean_share`` of them unaugmented."""
    rng = random.Random(f"{name}-{seed}")
    plans = [
        Utterance(
            key=f"{name}-{i:05d}",
            text=text,
            voice=rng.choice(voices).name,
            speed=rng.randint(120, 200),
            pitch=rng.randint(20, 80),
            amplitude=rng.randint(60, 180),
            seed=rng.randrange(2**31),
            mode=mode,
        )
        for i, text in enumerate(texts)
    ]
    clean = set(
        random.Random(f"{name}-{seed}-clean").sample(range(len(plans)), int(clean_share * len(plans)))
    )
    return [dataclasses.replace(u, mode="clean") if i in clean else u for i, u in enumerate(plans)]


def write_set(
    name: str, utterances: list[Utterance], root: Path, workers: int = 2, until: float | None = None
) -> Path:
    """Render a set with ``workers`` processes and write its NeMo JSON-lines manifest. With ``until``
    (a unix time), rendering stops at that time and the manifest lists the clips finished by then."""
    manifest = root / f"{name}.json"
    if manifest.exists():  # rendering is deterministic: reuse a finished set
        return manifest
    out_dir = root / name
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with Pool(workers) as pool:
        for row in pool.imap(_render_star, [(u, out_dir) for u in utterances], chunksize=8):
            if row:
                rows.append(row)
            if until is not None and time.time() > until:
                pool.terminate()
                break
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return manifest


def eval_sets(
    root: Path,
    seed: int = 7,
    size: int = EVAL_SIZE,
    train_count: int = 6000,
    broad_heldout: list[str] | None = None,
    workers: int = 2,
) -> dict[str, Path]:
    """The evaluation sets, regenerated deterministically (same seed -> same audio); with
    ``broad_heldout``, a fifth set of French sentences (Littré clauses) that no training sentence equals."""
    held = corpus.heldout_sentences(3 * size, seed, train_count)
    voices = corpus.train_voices()
    extra = (
        {"broad_heldout": plan("broadheldout", broad_heldout, voices, seed, "clean")} if broad_heldout else {}
    )
    plans = {
        "heldout_sentences": plan("heldout", held[:size], voices, seed, "clean"),
        "unseen_words": plan("unseenwords", corpus.unseen_word_sentences(size, seed), voices, seed, "clean"),
        "unseen_voices": plan("unseenvoices", held[size : 2 * size], corpus.unseen_voices(), seed, "clean"),
        "telephone_8k_mulaw": plan("telephone", held[2 * size :], voices, seed, "telephone"),
        **extra,
    }
    return {name: write_set(name, utts, root, workers) for name, utts in plans.items()}


def evaluate(model: Any, manifest: Path, batch_size: int = 8) -> dict[str, float]:
    """Corpus WER/CER of ``model`` on a manifest's clips."""
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line]
    hyps = hypothesis_texts(
        model.transcribe([r["audio_filepath"] for r in rows], batch_size=batch_size, verbose=False)
    )
    return error_rates([r["text"] for r in rows], hyps)


def training_text(count: int, seed: int) -> tuple[list[str], list[str]]:
    """Broad training sentences (:mod:`training.asr_corpus_broad`) and 124 held-out Littré clauses.

    Every sentence of the template evaluation sets (held-out sentences, unseen words) and every word of
    the unseen vocabulary stays out of training, so those sets keep their meaning."""
    evaluation = corpus.heldout_sentences(3 * EVAL_SIZE + 24, seed, count) + corpus.unseen_word_sentences(
        EVAL_SIZE, seed
    )
    excluded = {normalize_text(t) for t in evaluation}
    unseen = corpus.unseen_vocabulary()
    texts = broad.broad_sentences(int(count * 1.05) + 200, seed, exclude=excluded)
    texts = [t for t in texts if not unseen & set(normalize_text(t).split())][:count]
    taken = {normalize_text(t) for t in texts} | excluded
    pool = [c for c in broad.littre_clauses() if normalize_text(c) not in taken]
    return texts, random.Random(f"broad-heldout-{seed}").sample(pool, EVAL_SIZE + 24)


def cached_training_text(count: int, seed: int, cache: Path | None) -> tuple[list[str], list[str]]:
    """:func:`training_text`, read from ``cache`` (JSON) when it holds the same count and seed, else
    computed and written there: a machine without the Debian text packages trains from the file."""
    if cache and cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        if (data["count"], data["seed"]) == (count, seed):
            return data["train"], data["broad_heldout"]
    texts, heldout = training_text(count, seed)
    if cache:
        payload = {"count": count, "seed": seed, "train": texts, "broad_heldout": heldout}
        cache.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return texts, heldout


def recipe_hash(params: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for name in _SOURCES:
        digest.update((root / name).read_bytes())
    digest.update(json.dumps(params, sort_keys=True).encode())
    return digest.hexdigest()


def greedy_texts(logits: Any, lengths: Any) -> list[str]:
    """Greedy CTC decoding (argmax, collapse repeats, drop blanks) of ``[batch, time, vocab]`` scores."""
    blank = len(LABELS)
    out = []
    for row, n in zip(logits.argmax(-1).tolist(), lengths.tolist(), strict=True):
        chars, prev = [], blank
        for k in row[:n]:
            if k != prev and k != blank:
                chars.append(LABELS[k])
            prev = k
        out.append("".join(chars))
    return out


def _progress_callback(
    every: int,
    monitor: Path | None,
    monitor_every: int,
    snapshot_dir: Path,
    lr_by_time: tuple[float, float, int] | None = None,
) -> Any:
    """Prints step, loss, lr and time; every ``monitor_every`` steps also the greedy CER on a few
    held-out clips, and saves a snapshot ``.nemo`` that ``--init-from`` can continue.

    With ``lr_by_time = (peak, seconds, warmup_steps)`` the learning rate follows a linear warm-up over
    ``warmup_steps`` and a cosine decay to 1e-5 over ``seconds`` of wall-clock time (set before each
    step, over the step-based scheduler's value): a run bounded by the clock ends with a decayed rate
    whatever its speed."""
    import torch
    from lightning.pytorch.callbacks import Callback

    rows = [json.loads(line) for line in monitor.read_text().splitlines()][:24] if monitor else []
    clips = [sf.read(r["audio_filepath"], dtype="float32")[0] for r in rows]

    class Progress(Callback):
        def __init__(self) -> None:
            self.start = time.time()
            self.lr: float | None = None  # the rate this step used (the step scheduler's runs after it)

        def on_train_batch_start(self, trainer: Any, *args: Any) -> None:
            if lr_by_time is None:
                return
            peak, seconds, warmup = lr_by_time
            done = min(1.0, (time.time() - self.start) / seconds)
            lr = 1e-5 + (peak - 1e-5) * 0.5 * (1 + math.cos(math.pi * done))
            lr *= min(1.0, (trainer.global_step + 1) / warmup)
            for group in trainer.optimizers[0].param_groups:
                group["lr"] = lr
            self.lr = lr

        def on_train_batch_end(self, trainer: Any, module: Any, *args: Any) -> None:
            step = trainer.global_step
            if step % every == 0:
                loss = trainer.callback_metrics.get("train_loss")
                lr = self.lr if self.lr is not None else trainer.optimizers[0].param_groups[0]["lr"]
                print(
                    f"step {step} loss {float(loss) if loss is not None else float('nan'):.3f} "
                    f"lr {lr:.2e} {time.time() - self.start:.0f}s",
                    flush=True,
                )
            if clips and step % monitor_every == 0:
                module.eval()
                with torch.no_grad():
                    lengths = torch.tensor([len(c) for c in clips])
                    batch = torch.zeros(len(clips), int(lengths.max()))
                    for i, c in enumerate(clips):
                        batch[i, : len(c)] = torch.from_numpy(c)
                    log_probs, encoded_len, _ = module.forward(
                        input_signal=batch.to(module.device),
                        input_signal_length=lengths.to(module.device),
                    )
                    hyps = greedy_texts(log_probs, encoded_len)
                module.train()
                rates = error_rates([r["text"] for r in rows], hyps)
                module.save_to(str(snapshot_dir / f"snapshot-{step}.nemo"))
                print(
                    f"monitor step {step} wer {rates['wer']:.3f} cer {rates['cer']:.3f} | {hyps[0]!r}",
                    flush=True,
                )

    return Progress()


def fit(
    preset: str,
    train_manifest: Path,
    steps: int,
    seed: int,
    batch_size: int,
    lr: float,
    max_minutes: float | None = None,
    init_from: str | None = None,
    monitor: Path | None = None,
    monitor_every: int = 250,
    loader_workers: int = 0,
    lr_by_time: bool = False,
    precision: str = "32-true",
) -> tuple[Any, int, float]:
    """Train a fresh model (or continue ``init_from``) on the GPU when CUDA is available, else on one
    CPU thread; returns (model, steps done, seconds)."""
    import lightning.pytorch as pl
    import torch

    from inference.asr_model import new_model

    cuda = torch.cuda.is_available()
    if cuda:
        torch.set_float32_matmul_precision("high")
    else:
        torch.set_num_threads(1)
    pl.seed_everything(seed, workers=True)
    timed = (max_minutes * 60, max(1, min(200, steps // 10))) if lr_by_time and max_minutes else None
    trainer = pl.Trainer(
        accelerator="gpu" if cuda else "cpu",
        devices=1,
        precision=precision if cuda else "32-true",
        max_steps=steps,
        max_epochs=-1,
        max_time={"minutes": max_minutes} if max_minutes else None,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        gradient_clip_val=1.0,
        callbacks=[
            _progress_callback(
                max(1, min(50, steps // 10)),
                monitor,
                monitor_every,
                train_manifest.parent,
                (lr, *timed) if timed else None,
            )
        ],
    )
    if init_from:  # continue training a saved model with a fresh warm-up + cosine schedule
        from nemo.collections.asr.models import EncDecCTCModel
        from omegaconf import open_dict

        model = EncDecCTCModel.restore_from(init_from, map_location="cpu", trainer=trainer)
        with open_dict(model.cfg):
            model.cfg.train_ds.manifest_filepath = str(train_manifest)
            model.cfg.train_ds.batch_size = batch_size
            model.cfg.optim.lr = lr
            model.cfg.optim.sched.max_steps = steps
            model.cfg.optim.sched.warmup_steps = max(1, min(200, steps // 10))
        model.setup_training_data(model.cfg.train_ds)
        model.setup_optimization(model.cfg.optim)
    else:
        model = new_model(preset, str(train_manifest), None, batch_size, steps, lr, trainer)
    if loader_workers:  # feed a GPU: parallel WAV loading into pinned memory
        from omegaconf import open_dict

        with open_dict(model.cfg):
            model.cfg.train_ds.num_workers = loader_workers
            model.cfg.train_ds.pin_memory = cuda
        model.setup_training_data(model.cfg.train_ds)
    started = time.time()
    trainer.fit(model)
    model.eval()
    return model, trainer.global_step, time.time() - started


def train(
    out: str | Path = "models/asr",
    preset: str = "small",
    steps: int = 2000,
    utterances: int = 3000,
    seed: int = 7,
    batch_size: int = 16,
    lr: float = 2e-3,
    max_minutes: float | None = None,
    work_dir: str | Path | None = None,
    init_from: str | None = None,
    clean_share: float = 0.3,
    monitor_every: int = 250,
    text: str = "broad",
    workers: int = 2,
    loader_workers: int = 0,
    render_until: float | None = None,
    train_until: float | None = None,
    lr_by_time: bool = False,
    text_cache: str | Path | None = None,
    precision: str = "32-true",
) -> dict[str, Any]:
    """Synthesise, train, save ``<out>/callaudit-fr-ctc-<preset>.nemo`` and ``<out>/metrics.json``.

    ``render_until`` and ``train_until`` (unix times) bound the training set's rendering and the
    training by the clock; the evaluation and monitor sets are rendered first, in full."""
    params = {"preset": preset, "steps": steps, "utterances": utterances, "seed": seed,
              "batch_size": batch_size, "lr": lr, "clean_share": clean_share,
              "init_from_sha256": file_sha256(Path(init_from)) if init_from else None,
              "text": text, "lr_by_time": lr_by_time}  # fmt: skip
    recipe = recipe_hash(params)  # hashed before the long run, so later edits cannot mislabel it
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(work_dir or tempfile.mkdtemp(prefix="asr-train-"))
    t0 = time.time()
    voices = corpus.train_voices()
    broad_heldout: list[str] = []
    if text == "broad":
        texts, broad_heldout = cached_training_text(
            utterances, seed, Path(text_cache) if text_cache else None
        )
    else:
        texts = corpus.train_sentences(utterances, seed)
    manifests = eval_sets(
        root, seed, train_count=utterances, broad_heldout=broad_heldout[:EVAL_SIZE], workers=workers
    )
    # a small set for watching training (CER printed every monitor_every steps); never used for metrics
    watch = (
        broad_heldout[EVAL_SIZE:]
        or corpus.heldout_sentences(3 * EVAL_SIZE + 24, seed, utterances)[3 * EVAL_SIZE :]
    )
    monitor = write_set("monitor", plan("monitor", watch, voices, seed, "clean"), root, workers)
    train_plan = plan("train", texts, voices, seed, "augment", clean_share)
    train_manifest = write_set("train", train_plan, root, workers, until=render_until)
    synth_seconds = time.time() - t0
    rows = train_manifest.read_text().splitlines()
    hours = sum(json.loads(r)["duration"] for r in rows) / 3600
    print(f"synthesised {len(rows)} of {len(texts)} train utterances ({hours:.2f} h) in {synth_seconds:.0f}s",
          flush=True)  # fmt: skip
    if train_until:
        left = (train_until - time.time()) / 60
        max_minutes = min(max_minutes, left) if max_minutes else left
    model, done, seconds = fit(
        preset, train_manifest, steps, seed, batch_size, lr, max_minutes, init_from, monitor, monitor_every,
        loader_workers, lr_by_time, precision,
    )  # fmt: skip
    path = out / MODEL_NAME.replace("small", preset)
    model.save_to(str(path))
    results = {name: evaluate(model, m, 32 if loader_workers else 8) for name, m in manifests.items()}
    metrics = {
        "model": path.name,
        "model_sha256": file_sha256(path),
        "model_bytes": path.stat().st_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "recipe_sha256": recipe,
        "params": params,
        "steps_done": done,
        "train_seconds": round(seconds, 1),
        "synthesis_seconds": round(synth_seconds, 1),
        "train_audio_hours": round(hours, 3),
        "train_clips": len(rows),
        "train_voices": [v.name for v in corpus.train_voices()],
        "unseen_voices": [v.name for v in corpus.unseen_voices()],
        "eval": results,
        "device": _device_name(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2), flush=True)
    return metrics


def _device_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu, 1 torch thread"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="models/asr")
    parser.add_argument("--preset", default="small", choices=["small", "tiny"])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--utterances", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop training early at this time")
    parser.add_argument("--init-from", default=None, help="continue training this .nemo")
    parser.add_argument("--work-dir", default=None, help="where WAVs/manifests go (default: a temp dir)")
    parser.add_argument(
        "--clean-share", type=float, default=0.3, help="share of training clips not augmented"
    )
    parser.add_argument(
        "--text",
        default="broad",
        choices=["broad", "templates"],
        help="broad French (asr_corpus_broad, the default) or the call-centre templates alone",
    )
    parser.add_argument("--monitor-every", type=int, default=250, help="steps between CER checks/snapshots")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering speech")
    parser.add_argument("--loader-workers", type=int, default=0, help="data-loader processes (GPU)")
    parser.add_argument("--render-until", type=float, default=None, help="unix time: stop rendering")
    parser.add_argument("--train-until", type=float, default=None, help="unix time: stop training")
    parser.add_argument("--lr-by-time", action="store_true", help="warm-up + cosine over the time limit")
    parser.add_argument("--text-cache", default=None, help="JSON cache of the broad training text")
    parser.add_argument("--precision", default="32-true", help="Lightning precision on a GPU")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    train(args.out, args.preset, args.steps, args.utterances, args.seed, args.batch_size, args.lr,
          args.max_minutes, args.work_dir, args.init_from, args.clean_share, args.monitor_every,
          args.text, args.workers, args.loader_workers, args.render_until, args.train_until,
          args.lr_by_time, args.text_cache, args.precision)  # fmt: skip


if __name__ == "__main__":
    main()
