#!/usr/bin/env bash
# The whole test suite, long tests included, one pytest-xdist process per core. Options pass through
# to pytest and win over these: -m "not long" (the fast part, what a plain 'pytest' runs), -n 0 (one
# process), -x, a test file.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$root"
cores=$(python -c 'import os; print(len(os.sched_getaffinity(0)))')
python -m pytest -n "$cores" -m "" "$@"
