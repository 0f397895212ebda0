#!/usr/bin/env bash
# Set up Digit Lab for development on Debian or Ubuntu: the system libraries Qt needs,
# a virtual environment in .venv, the CPU build of torch, and the project itself.
#
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${1:-}
TORCH_VERSION=2.13.0
# Libraries that the PySide6 wheels load but do not bundle, plus Xvfb for screenshots.
QT_PACKAGES="libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 xvfb xauth"

install_system_packages() {
    command -v dpkg-query >/dev/null || { echo "setup: not a Debian system; install Qt's libraries yourself if the app does not start."; return; }
    local missing=()
    for package in $QT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing Debian packages: ${missing[*]}"
        echo "setup: run 'sudo apt-get install ${missing[*]}' so the desktop app can start."
        return
    fi
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_system_packages

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"

# The CPU build first and by its exact name: a plain "torch" requirement can resolve to a
# CUDA build of several gigabytes. "+cpu" makes pip fail instead of taking that build.
if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__ != '$TORCH_VERSION+cpu')" 2>/dev/null; then
    if ! $PIP install -q "torch==$TORCH_VERSION+cpu"; then
        echo "setup: torch $TORCH_VERSION+cpu is not on the configured package index;"
        echo "setup: trying the PyTorch CPU index."
        $PIP install -q "torch==$TORCH_VERSION+cpu" --index-url https://download.pytorch.org/whl/cpu
    fi
fi

if [ -n "$EXTRAS" ]; then
    $PIP install -q -e ".[$EXTRAS]"
else
    $PIP install -q -e .
fi
"$VENV/bin/python" -c "import torch; assert torch.version.cuda is None, 'a CUDA build of torch was installed'"
echo "setup: ready ($("$VENV/bin/digitlab" --version), torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)'))"
