#!/usr/bin/env bash
# The main job: train the default network (64-100-10) on the embedded digits data set for 20
# epochs in compiled Brian2, then draw its learning curve and membrane traces.
# Results: runs/digits/ (metrics.json, weights.npz, traces.npz, figures). About 1 minute.
# Running it again continues or reuses the same run folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
out="${1:-runs/digits}"
corinfo-sim train --dataset digits --epochs 20 --out "$out" --resume
corinfo-sim figure learning-curves --run "$out" --out "$out/learning_curves.png"
corinfo-sim figure traces --run "$out" --out "$out/traces.png"
