#!/bin/bash
# Runs on the device machine from the repository root: install the carried wheels, put the carried
# espeak-ng first on PATH, train. OUT must be set.
export T0=$(date +%s.%N)
set -o pipefail
SITE=${SITE:-/tmp/site}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$(dirname "$0")"/whl/*.whl || exit 3
export PYTHONPATH="$SITE:$PWD" PYTHONUNBUFFERED=1 PATH="$PWD/$(dirname "$0")/espeak/bin:$PATH"
echo "wheels installed t=$(python3 -c "import time;print(round(time.time()-$T0))")s; cpus $(nproc)"
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader 2>/dev/null
python3 "$(dirname "$0")/run_gpu.py"
