#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the whole test suite with pytest.
#
# Arguments go to pytest (e.g. scripts/test.sh -k plan -x). pytest's "no tests ran" (exit 5)
# is a failure here, never a silent pass.
#
# Environment:
#   MLOPSCTL_REQUIRE_ENGINE=1  tests marked 'docker' fail instead of skipping without an engine
#                              (.ci/run sets it)
#   and everything scripts/setup.sh reads.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLOPSCTL_VENV:-$ROOT/.venv}"

bash "$ROOT/scripts/setup.sh"

cd "$ROOT"
printf '==> running the test suite: pytest %s\n' "$*"
set +e
"$VENV/bin/python" -m pytest --durations=15 "$@"
rc=$?
set -e
case "$rc" in
    0) printf '==> tests passed\n' ;;
    5) printf 'ERROR: pytest collected and ran no tests (exit 5); that is a failure, not a pass.\n' >&2; exit 1 ;;
    *) printf 'ERROR: tests failed (pytest exit %s)\n' "$rc" >&2 ;;
esac
exit "$rc"
