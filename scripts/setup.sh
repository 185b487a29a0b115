#!/usr/bin/env bash
# Installs everything tinyedge needs on a fresh Debian machine (run as root or
# with sudo): the Cortex-M toolchain and emulator from Debian, then tinyedge
# itself (editable) with its Python dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

DEBIAN_PACKAGES="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm cmake"
missing=""
for pkg in $DEBIAN_PACKAGES; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

echo "setup: installing tinyedge and its Python dependencies"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e ".[test]"
# tf_keras (Keras 2) for tests/ops/test_lstm_svdf_sweep.py: the converter fuses its LSTM layer
# into UNIDIRECTIONAL_SEQUENCE_LSTM, not Keras 3's. Without its dependencies, which would add
# the full tensorflow package next to tensorflow-cpu; its version follows TensorFlow's.
tf_minor=$(python3 -c 'import tensorflow as tf; print(tf.__version__.rsplit(".", 1)[0])')
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps \
    "tf-keras~=${tf_minor}.0"
