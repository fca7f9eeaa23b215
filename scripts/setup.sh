#!/usr/bin/env bash
# Set up mlopsctl for development on a fresh machine: a virtualenv with mlopsctl (editable) and
# the test dependencies, then the Docker engine and the local base image (scripts/engine-up.sh).
#
# Idempotent and fast when already done: the install is skipped while pyproject.toml, the
# extras and the Python are unchanged (a stamp in the venv records them).
#
# Environment:
#   PYTHON                 interpreter to build the venv from (default python3; needs >= 3.11)
#   MLOPSCTL_VENV          where the venv lives (default .venv in the repository)
#   MLOPSCTL_EXTRAS        pip extras to install (default "test")
#   MLOPSCTL_SKIP_ENGINE=1 do not bring up the Docker engine
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLOPSCTL_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
EXTRAS="${MLOPSCTL_EXTRAS:-test}"
START=$(date +%s)

step() { printf '==> [setup %3ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

cd "$ROOT"

# 1. A Python new enough for mlopsctl.
command -v "$PYTHON" >/dev/null 2>&1 \
    || die "no '$PYTHON' on PATH: mlopsctl needs Python 3.11 or newer (Debian: apt-get install python3 python3-venv), or set PYTHON=/path/to/python3.11"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    die "mlopsctl needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" -c 'import platform; print(platform.python_version())'). Set PYTHON=/path/to/python3.11"
fi

# 2. The virtualenv (recreated only when missing or unusable).
if ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then
    step "creating the virtualenv $VENV"
    "$PYTHON" -m venv --clear "$VENV" \
        || die "could not create a virtualenv with '$PYTHON -m venv' (Debian: apt-get install python3-venv)"
else
    step "virtualenv $VENV is there"
fi

# 3. mlopsctl (editable) and its test dependencies.
STAMP="$VENV/.mlopsctl-setup"
WANT="$( { cat pyproject.toml; echo "extras=$EXTRAS root=$ROOT"; "$VENV/bin/python" -VV; } | sha256sum | cut -d' ' -f1)"
installed_here() {
    # The editable install must point at THIS checkout (a copied venv points elsewhere).
    "$VENV/bin/python" - "$ROOT" <<'EOF' >/dev/null 2>&1
import pathlib, sys
import mlopsctl
sys.exit(0 if pathlib.Path(mlopsctl.__file__).resolve().parent.parent == pathlib.Path(sys.argv[1]).resolve() else 1)
EOF
}
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && installed_here; then
    step "mlopsctl[$EXTRAS] already installed (pyproject.toml unchanged)"
else
    step "installing mlopsctl[$EXTRAS] in editable mode (a few minutes on a fresh machine)"
    rm -f "$STAMP"
    # The machine's pip configuration may name index folders that are absent; pip warns once per
    # package about each. Those lines are noise, so they are filtered; everything else shows.
    PIP_NO_INPUT=1 "$VENV/bin/python" -m pip install --progress-bar off -q -e ".[$EXTRAS]" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; } \
        || die "pip install -e .[$EXTRAS] failed (see pip's messages above)"
    installed_here || die "mlopsctl does not import from $ROOT after installing"
    echo "$WANT" >"$STAMP"
fi
# Bytecode for the editable checkout, as pip writes it for an installed wheel: every command
# starts without compiling mlopsctl first (also where PYTHONDONTWRITEBYTECODE is set).
"$VENV/bin/python" -m compileall -q "$ROOT/mlopsctl" >/dev/null || warn "could not write mlopsctl's bytecode"
"$VENV/bin/mlopsctl" --version >/dev/null || die "$VENV/bin/mlopsctl --version failed"

# 4. The Docker engine and the local base image (images and deployments need them).
if [ "${MLOPSCTL_SKIP_ENGINE:-0}" = 1 ]; then
    step "Docker engine bring-up skipped (MLOPSCTL_SKIP_ENGINE=1)"
elif [ -f "$ROOT/scripts/engine-up.sh" ]; then
    step "bringing up the Docker engine and the local base image (scripts/engine-up.sh)"
    if bash "$ROOT/scripts/engine-up.sh"; then
        :
    else
        rc=$?
        warn "the Docker engine could not be brought up (scripts/engine-up.sh exited $rc)."
        warn "Without an engine, 'mlopsctl apply' stops at images and deployments with a message, and"
        warn "tests marked 'docker' are skipped (or fail when MLOPSCTL_REQUIRE_ENGINE is set, as in CI)."
    fi
else
    warn "scripts/engine-up.sh is missing: no Docker engine set up; images and deployments cannot be applied."
fi

# 5. Graphviz, so the tests can check that `mlopsctl graph` output renders (Debian, as root).
if ! command -v dot >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing Graphviz (apt-get install graphviz) for the DOT rendering test"
        { apt-get install -y -qq --no-install-recommends graphviz >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends graphviz >/dev/null 2>&1; }; } \
            || warn "could not install Graphviz; the DOT rendering test will be skipped"
    else
        warn "Graphviz (dot) is not installed; the DOT rendering test will be skipped"
    fi
fi

# 6. A container registry (Debian's docker-registry, the distribution registry), so the tests can push
#    images to a real one; they start it themselves on 127.0.0.1 with a free port (never as a service).
if ! command -v docker-registry >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing docker-registry (apt-get install docker-registry) for the image push tests"
        { apt-get install -y -qq --no-install-recommends docker-registry >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends docker-registry >/dev/null 2>&1; }; } \
            || warn "could not install docker-registry; the image push tests will be skipped"
    else
        warn "docker-registry is not installed; the image push tests will be skipped"
    fi
fi

step "ready: $("$VENV/bin/mlopsctl" --version) in $VENV (activate: source ${VENV#"$ROOT"/}/bin/activate)"
