#!/usr/bin/env bash
# Set up a fresh machine: system packages (espeak-ng for the synthetic speech; Chromium with --browser),
# a .venv at the repository root with the locked dependencies (requirements.lock) and callaudit installed
# in it. Safe to re-run: it does nothing when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# --browser (make test): also Debian's Chromium, for the end-to-end test of the Prefect UI and the docs
PACKAGES=()
command -v espeak-ng >/dev/null 2>&1 || PACKAGES+=(espeak-ng)
if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
    PACKAGES+=(chromium fonts-dejavu-core)
fi
if [ ${#PACKAGES[@]} -gt 0 ]; then
    echo "setup: installing ${PACKAGES[*]} (Debian)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi

# The stamp changes with the lock, pyproject.toml and the bytecode step below.
STAMP=".venv/.callaudit-$( (cat requirements.lock pyproject.toml; echo bytecode) | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
    echo "setup: installing locked dependencies into .venv (uv) and compiling them to bytecode (a minute or two)"
    .venv/bin/python -m pip install -q "uv==0.13.9"
    # torch is the CPU build that ships with the machine (/opt/wheels, PIP_FIND_LINKS): never the CUDA one
    FIND_LINKS="${PIP_FIND_LINKS:-/opt/wheels}"
    .venv/bin/uv pip install -q -p .venv/bin/python --find-links "$FIND_LINKS" -r requirements.lock
    # The .pyc files, written once here: where PYTHONDONTWRITEBYTECODE is set (as on this project's machines)
    # Python never writes them itself, and every process compiled again the sources of all it imports
    # (`import flows.daily` with NeMo's ASR: 24 s, 10 s with them). compileall rather than uv's
    # --compile-bytecode, which skips an environment that has nothing new to install. A file that does not
    # compile (a template, Python 2 code in a package's data) is only compiled at import, as before.
    .venv/bin/python -m compileall -q -j 0 .venv/lib/python3*/site-packages >/dev/null 2>&1 || true
    .venv/bin/uv pip install -q -p .venv/bin/python --no-deps -e .
    rm -f .venv/.callaudit-*
    touch "$STAMP"
fi
echo "setup: ready (.venv/bin/callaudit)"
