#!/usr/bin/env bash
# The documentation site: Sphinx with numpydoc, warnings as errors (a broken reference or an
# undocumented public function fails the build). Writes docs/_build/html (or the folder given).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$root"
out="${1:-docs/_build/html}"
python -m sphinx -b html -W --keep-going -n -q -d "$out/.doctrees" docs "$out"
echo "documentation in $out/index.html"
