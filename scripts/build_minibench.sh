#!/usr/bin/env bash
# Build the offline mini-benchmark (docs/minibench.md) into OUT_DIR (default ./minibench):
#   real prompt recordings (Debian asterisk sound packages) vs TTS (espeak-ng, flite, festival, and mbrola / pico
#   where they install) and vocoded speech, in the ASVspoof 2019 LA layout, every utterance through the same
#   narrowband channel chain.
#
#   scripts/build_minibench.sh [OUT_DIR]
#   .venv/bin/python train_and_eval.py --dataset ASVspoof2019LADataset_single --data_root OUT_DIR
#
# Installs what it needs with apt-get (root, or sudo when available), skips any package that does not install,
# and is idempotent: packages already installed and TTS waves already made are kept, the layout is rewritten.
# Environment: PYTHON (default: the repository's .venv/bin/python), BONAFIDE_PER_SET (60), PER_ATTACK (24).
set -euo pipefail

REPOSITORY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${1:-$REPOSITORY/minibench}"
PYTHON="${PYTHON:-$REPOSITORY/.venv/bin/python}"
BONAFIDE_PER_SET="${BONAFIDE_PER_SET:-60}"
PER_ATTACK="${PER_ATTACK:-24}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"

if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo -n); else SUDO=(); fi
export DEBIAN_FRONTEND=noninteractive

# Bona fide: recordings (wav = 8 kHz PCM, the lossless format) and the prompt texts (core-sounds-XX.txt.gz).
BONAFIDE_PACKAGES=(
  asterisk-core-sounds-en-wav asterisk-core-sounds-en
  asterisk-core-sounds-es-wav asterisk-core-sounds-es
  asterisk-core-sounds-fr-wav asterisk-core-sounds-fr
  asterisk-core-sounds-it-wav asterisk-core-sounds-it
  asterisk-core-sounds-ru-wav asterisk-core-sounds-ru
  asterisk-prompt-it-menardi-wav
)
# Spoof: TTS systems and voices. mbrola and pico are in Debian's non-free/contrib: they install only where
# those components are configured, and are skipped otherwise.
TTS_PACKAGES=(
  espeak-ng flite festival festlex-cmu
  festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festvox-italp16k festvox-itapc16k festlex-ifd festvox-ru
  mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-fr1 mbrola-fr4 mbrola-es1 mbrola-es2 mbrola-it3 mbrola-it4
  libttspico-utils
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for package in "${BONAFIDE_PACKAGES[@]}" "${TTS_PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "minibench: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq || echo "minibench: apt-get update failed; trying the cached package lists"
  # all at once first (fast); one by one when that fails, so that one unavailable package skips only itself
  if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    for package in "${missing[@]}"; do
      if "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1; then
        echo "minibench: installed $package"
      else
        echo "minibench: $package did not install (not in the configured apt sources?); skipped"
      fi
    done
  fi
fi

# the package versions used, for docs/minibench.md
for package in "${BONAFIDE_PACKAGES[@]}" "${TTS_PACKAGES[@]}"; do
  if installed "$package"; then
    dpkg-query -W -f='${Package}\t${Version}\n' "$package"
  else
    printf '%s\t(not installed)\n' "$package"
  fi
done > "$OUT_DIR/packages.tsv"

cd "$REPOSITORY"
export OMP_NUM_THREADS=1
nice -n 10 "$PYTHON" scripts/minibench.py prepare "$OUT_DIR/raw" --bonafide_per_set "$BONAFIDE_PER_SET" --per_attack "$PER_ATTACK"
nice -n 10 "$PYTHON" scripts/minibench.py build "$OUT_DIR/raw" "$OUT_DIR" --per_attack "$PER_ATTACK"
echo "minibench: done; train with: $PYTHON train_and_eval.py --dataset ASVspoof2019LADataset_single --data_root $OUT_DIR"
