#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run mlopsctl's main job on the bundled example:
# scaffold a model repository (mlopsctl new), validate, plan, apply, and plan again, which must
# say "No changes." (apply converged).
#
# Usage: scripts/quickstart.sh [--fresh] [DIR]
#   DIR      where the example repository goes (default build/quickstart/iris-demo)
#   --fresh  tear down a previous run in DIR (mlopsctl destroy) and start again
# Re-running without --fresh re-applies the existing example, which changes nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLOPSCTL_VENV:-$ROOT/.venv}"
FRESH=0
DEST=""
for arg in "$@"; do
    case "$arg" in
        --fresh) FRESH=1 ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) printf 'ERROR: unknown option %s (try --help)\n' "$arg" >&2; exit 1 ;;
        *) DEST="$arg" ;;
    esac
done
DEST="${DEST:-$ROOT/build/quickstart/iris-demo}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

bash "$ROOT/scripts/setup.sh"
MLOPSCTL="$VENV/bin/mlopsctl"
mlopsctl() { printf '$ mlopsctl %s\n' "$*"; "$MLOPSCTL" -C "$DEST" "$@"; }

# Where no image registry is reachable, `FROM python:3.11-slim` cannot be pulled: scaffold the
# example on the local base image that scripts/engine-up.sh made instead.
base_image_args() {
    local local_base="${MLOPSCTL_BASE_IMAGE:-mlopsctl/base:bookworm}"
    command -v docker >/dev/null 2>&1 || return 0
    docker image inspect python:3.11-slim >/dev/null 2>&1 && return 0
    docker image inspect "$local_base" >/dev/null 2>&1 || return 0
    printf -- '--base-image %s' "$local_base"
}

if [ "$FRESH" = 1 ] && [ -d "$DEST" ]; then
    step "removing the previous example in $DEST"
    [ -f "$DEST/mlops.yaml" ] || die "$DEST does not look like an mlopsctl repository (no mlops.yaml); not removing it"
    mlopsctl destroy --auto-approve || printf 'WARNING: destroy failed; removing the folder anyway\n' >&2
    rm -rf "$DEST"
fi

if [ -f "$DEST/mlops.yaml" ]; then
    step "reusing the example repository in $DEST (use --fresh to start over)"
else
    [ ! -e "$DEST" ] || [ -z "$(ls -A "$DEST")" ] || die "$DEST exists and is not an mlopsctl repository; choose another DIR"
    step "scaffolding the example model repository in $DEST"
    mkdir -p "$(dirname "$DEST")"
    # shellcheck disable=SC2046 # word splitting of the optional "--base-image IMAGE" is wanted
    set -- $(base_image_args)
    printf '$ mlopsctl new %s %s\n' "$DEST" "$*"
    "$MLOPSCTL" new "$DEST" "$@"
fi

step "validating the specs"
mlopsctl validate

step "planning"
mlopsctl plan

step "applying"
mlopsctl apply --auto-approve

step "planning again: apply converged when nothing is left to change"
set +e
mlopsctl plan --detailed-exitcode
rc=$?
set -e
case "$rc" in
    0) ;;
    2) die "the plan after apply still has changes: apply did not converge" ;;
    *) die "plan failed (exit $rc)" ;;
esac

cat <<EOF

==> Quick start done: the example repository is $DEST
    Look around:  $MLOPSCTL -C $DEST state list
                  $MLOPSCTL -C $DEST graph
                  git -C $DEST log --oneline --decorate
    Change a spec (e.g. estimator.params in models/*.yaml), then plan and apply again.
    Clean up:     $MLOPSCTL -C $DEST destroy
EOF
