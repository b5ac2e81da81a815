#!/usr/bin/env bash
# Install the Python side of Layer Lens (tests, fine-tuning, training) on Debian 12, as root.
# - Debian packages: the English text the reference corpus is built from.
# - A project virtual environment, .cache/venv, with the pinned PyPI packages of
#   python/requirements-test.txt (torch, transformers, tokenizers, sentencepiece, …).
# Idempotent: apt installs only what is missing; pip runs only when the pins changed
# (a stamp file in the venv holds the requirements' hash). Prints the interpreter path last.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  python3 python3-venv                                        # the interpreter the venv is made from
  dict-gcide wordnet-base dict-foldoc dict-jargon             # corpus: dictionaries
  bible-kjv bible-kjv-text                                    # corpus: King James Bible (+ `bible` reader)
  fortunes fortunes-min                                       # corpus: fortune cookies
)
VENV=.cache/venv
REQS=python/requirements-test.txt

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else echo "install-python.sh: run as root" >&2; exit 1; fi
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-python.sh: all ${#PKGS[@]} Debian packages already installed"
else
  echo "install-python.sh: missing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ] \
     || ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    echo "install-python.sh: apt-get update"
    $SUDO apt-get update
  fi
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The venv is made from the first Python ≥ 3.10 found: the machine's own (pyenv) python3 or Debian's.
want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  echo "install-python.sh: $VENV is up to date with $REQS"
else
  base=""
  for c in python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then base=$c; break; fi
  done
  [ -n "$base" ] || { echo "install-python.sh: no Python ≥ 3.10 with the venv module" >&2; exit 1; }
  start=$(date +%s)
  [ -x "$VENV/bin/python" ] || "$base" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS"
  echo "$want" > "$VENV/.requirements.sha256"
  echo "install-python.sh: pip install -r $REQS took $(( $(date +%s) - start )) s; $VENV is $(du -sh "$VENV" | cut -f1)"
fi
"$VENV/bin/python" -c 'import torch, transformers, tokenizers, sentencepiece, accelerate; print("install-python.sh: .cache/venv torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__)'
