#!/usr/bin/env bash
# Installs the optional system material PrismAudio uses when present: the Noto colour emoji
# font (SynthCanvas sprites), the FluidR3 General MIDI soundfont (better instruments than the
# TimGM6mb bank inside pretty-midi) and the freedesktop sound theme (real desktop recordings).
# Without root or apt it says what is missing and carries on: nothing here is required to
# import or test the package except the emoji font for building SynthCanvas videos.
set -u
need=()
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need+=(fonts-noto-color-emoji)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
[ -d /usr/share/sounds/freedesktop ] || need+=(sound-theme-freedesktop)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${need[*]}"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
    || echo "warning: could not install ${need[*]} (SynthCanvas will say what it lacks)"
else
  echo "note: missing optional system packages: ${need[*]} (install them with apt as root)"
fi
exit 0
