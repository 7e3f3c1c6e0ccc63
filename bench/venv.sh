#!/usr/bin/env bash
# Create (if missing) bench/.venv with a pinned Dask and print its python's path.
#   PY=$(bash bench/venv.sh) && "$PY" bench/dask_run.py FILE
# Idempotent and quiet on success; on failure prints pip's log to stderr.
# PYTHON selects the base interpreter (default python3, needs >= 3.10).
set -euo pipefail
DASK_VERSION=2026.8.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=$here/.venv
py=$venv/bin/python
if ! "$py" -c "import dask, sys; sys.exit(dask.__version__ != '$DASK_VERSION')" 2>/dev/null; then
    log=$(mktemp)
    if ! { "${PYTHON:-python3}" -m venv "$venv" &&
           "$py" -m pip install -q --disable-pip-version-check "dask==$DASK_VERSION"; } >"$log" 2>&1; then
        echo "venv.sh: could not set up $venv with dask==$DASK_VERSION:" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
fi
echo "$py"
