#!/usr/bin/env bash
# The whole test suite, long tests included (pass pytest options through, e.g. -m "not long").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$root"
python -m pytest "$@"
