#!/bin/bash
# Installs what is needed, builds, and starts ddbgate on its built-in
# defaults in the foreground (Ctrl-C stops it). Extra arguments are passed
# to `ddbgate run` (for example -c etc/ddbgate.yaml, or -d).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/bootstrap.sh" --no-tests
exec "$top/build/ddbgate" run "$@"
