#!/usr/bin/env bash
# Install the Python side of Layer Lens (reference checkpoint tooling) on Debian 12, as root.
# Idempotent: installs only what is missing; runs `apt-get update` only when needed.
# Uses Debian's /usr/bin/python3 (3.11) with python3-torch; no pip packages.
set -euo pipefail

PKGS=(
  python3 python3-numpy python3-torch libopenblas0-pthread   # PyTorch (CPU) for /usr/bin/python3
  dict-gcide wordnet-base dict-foldoc dict-jargon             # corpus: dictionaries
  bible-kjv bible-kjv-text                                    # corpus: King James Bible (+ `bible` reader)
  fortunes fortunes-min                                       # corpus: fortune cookies
)

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
  echo "install-python.sh: all ${#PKGS[@]} packages already installed; nothing to do"
else
  echo "install-python.sh: missing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # update the package lists only if they are absent or cannot resolve a missing package
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ] \
     || ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    echo "install-python.sh: apt-get update"
    $SUDO apt-get update
  else
    echo "install-python.sh: package lists present; skipping apt-get update"
  fi
  echo "install-python.sh: apt-get install -y --no-install-recommends ${missing[*]}"
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

/usr/bin/python3 -c 'import torch, numpy; print("install-python.sh: /usr/bin/python3 torch", torch.__version__, "numpy", numpy.__version__)'
