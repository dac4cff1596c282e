"""Driver on the CUDA host (models/asr/gpu/train.sh runs it from the repository root): fail fast on a broken
environment (espeak-ng clip, CUDA, NeMo import), then run the recipe bounded by the clock."""

import json
import os
import shutil
import subprocess
import sys
import time

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "text-80000-31.json")
T0 = float(os.environ.get("T0", time.time()))
OUT = os.environ["OUT"]
RENDER_S = float(os.environ.get("RENDER_S", 200))
TRAIN_END_S = float(os.environ.get("TRAIN_END_S", 490))
ARGS = json.loads(os.environ.get("ARGS", "{}"))

print(
    "espeak:",
    shutil.which("espeak-ng"),
    subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip(),
    flush=True,
)
from training.asr_train import espeak  # noqa: E402

_clip = espeak("Bonjour, je suis le technicien de la fibre.", "fr-be+f3", 150, 40, 100)
print("espeak clip", _clip.shape, flush=True)
if _clip.size < 16000:
    sys.exit("espeak-ng produced no audio")
import torch  # noqa: E402

print("torch", torch.__version__, "cuda", torch.cuda.is_available(), flush=True)
if os.environ.get("NEED_CUDA", "1") == "1" and not torch.cuda.is_available():
    sys.exit("no CUDA")
import lightning  # noqa: E402
import nemo.collections.asr  # noqa: E402,F401

print("nemo imported; lightning", lightning.__version__, f"t={time.time() - T0:.0f}s", flush=True)
from training import asr_train  # noqa: E402

params = dict(
    out=OUT,
    preset="small",
    seed=31,
    lr=2.5e-3,
    clean_share=0.25,
    monitor_every=500,
    work_dir="/tmp/asrwork",
    text_cache=TEXT,
    utterances=80000,
    steps=1_000_000,
    batch_size=128,
    workers=os.cpu_count(),
    loader_workers=12,
    lr_by_time=True,
    init_from="models/asr/callaudit-fr-ctc-small.nemo",
)
params.update(ARGS)
params["render_until"] = T0 + RENDER_S
params["train_until"] = T0 + TRAIN_END_S
print("params", params, flush=True)
metrics = asr_train.train(**params)
print("done", f"t={time.time() - T0:.0f}s", json.dumps(metrics["eval"]), flush=True)
