#!/usr/bin/env bash
# Build the kit that trains the ASR recipe on an offline CUDA host whose image has Python 3.12 with torch,
# lightning and sentencepiece but neither NeMo nor espeak-ng (nothing can be installed from a registry
# there). Run here, on a Debian 12 x86-64 machine with pip and apt access, from the repository root:
#   models/asr/gpu/make_kit.sh [.gpu]
# It writes KIT/whl (NeMo 3.0.0 and what `import nemo.collections.asr` + training need beyond that image,
# wheels.txt), KIT/espeak (espeak-ng 1.51 from the Debian packages, French data only, libpcaudio replaced
# by pcaudio_stub.c), KIT/text-80000-31.json (the broad training text, which needs wfrench and
# stardict-xmlittre, absent there) and KIT/train.sh + run_gpu.py (the driver).
set -euo pipefail
KIT="${1:-.gpu}"
HERE="$(dirname "$0")"
mkdir -p "$KIT/whl" "$KIT/espeak/lib" "$KIT/espeak/bin" "$KIT/espeak/data"

grep -v '^antlr4' "$HERE/wheels.txt" | xargs python3 -m pip download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$KIT/whl"
python3 -m pip wheel -q --no-deps -w "$KIT/whl" antlr4-python3-runtime==4.9.3  # published as source only

DEBS="$(mktemp -d)"
(cd "$DEBS" && apt-get download espeak-ng libespeak-ng1 espeak-ng-data libsonic0 >/dev/null)
for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$DEBS/root"; done
cp -a "$DEBS"/root/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1* "$DEBS"/root/usr/lib/x86_64-linux-gnu/libsonic.so.0* \
    "$KIT/espeak/lib/"
cp "$DEBS/root/usr/bin/espeak-ng" "$KIT/espeak/bin/espeak-ng.real"
DATA="$DEBS/root/usr/lib/x86_64-linux-gnu/espeak-ng-data"
mkdir -p "$KIT/espeak/data/espeak-ng-data/lang/roa"
cp -a "$DATA"/{fr_dict,intonations,phondata,phonindex,phontab,voices} "$KIT/espeak/data/espeak-ng-data/"
cp -a "$DATA"/lang/roa/fr* "$KIT/espeak/data/espeak-ng-data/lang/roa/"
gcc -shared -fPIC -O2 -o "$KIT/espeak/lib/libpcaudio.so.0" "$HERE/pcaudio_stub.c"
cat > "$KIT/espeak/bin/espeak-ng" <<'WRAP'
#!/bin/sh
D=$(dirname "$(dirname "$(readlink -f "$0")")")
LD_LIBRARY_PATH="$D/lib" ESPEAK_DATA_PATH="$D/data" exec "$D/bin/espeak-ng.real" "$@"
WRAP
chmod +x "$KIT/espeak/bin/espeak-ng"
rm -rf "$DEBS"

.venv/bin/python -c "from pathlib import Path; from training.asr_train import cached_training_text as t; \
t(80000, 31, Path('$KIT/text-80000-31.json'))"
cp "$HERE/train.sh" "$HERE/run_gpu.py" "$KIT/"
du -sh "$KIT"
