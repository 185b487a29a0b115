#!/usr/bin/env bash
# The main job on a fresh machine: set up, compile the bundled MLPerf Tiny
# keyword-spotting model, build and run the C on its sample input, and print
# the report and the predicted keyword.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 examples/kws/demo.py "$@"
