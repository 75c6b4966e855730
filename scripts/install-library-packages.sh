#!/usr/bin/env bash
# Installs the Debian packages the sound library is built from (`make library`), idempotently:
# tier 1 (~120 MB: minetest-data, sonic-pi-samples, lugaru-data, scorched3d-data,
# bucklespring-data), tier 2 (~700 MB: wesnoth-1.16-data, flare-game, lincity-ng-data,
# megaglest-data, hydrogen-drumkits; skip with LIBRARY_TIER=1), and extracts the `scratch`
# package's sounds into the PrismAudio cache (it is not installed: installing pulls a VM).
# Without root or apt it says what is missing and exits 0: `library build` then builds from
# whatever is there and names each missing package in one line.
set -u
tier1=(minetest-data sonic-pi-samples lugaru-data scorched3d-data bucklespring-data)
tier2=(wesnoth-1.16-data flare-game lincity-ng-data megaglest-data hydrogen-drumkits)
wanted=("${tier1[@]}")
[ "${LIBRARY_TIER:-2}" = 1 ] || wanted+=("${tier2[@]}")
cache="${PRISMAUDIO_CACHE:-$HOME/.cache/prismaudio}/debs"
scratch_dir="$cache/scratch"

need=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
need_scratch=0
[ -d "$scratch_dir/usr/share/scratch/Media/Sounds" ] || need_scratch=1
if [ ${#need[@]} -eq 0 ] && [ $need_scratch = 0 ]; then
  echo "sound library packages: all installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  [ ${#need[@]} -gt 0 ] && echo "note: missing sound library packages: ${need[*]} (install them with apt as root)"
  [ $need_scratch = 1 ] && echo "note: scratch sounds not extracted to $scratch_dir (as root: apt-get download scratch; dpkg-deb -x scratch_*.deb $scratch_dir)"
  exit 0
fi
apt-get update -qq >/dev/null 2>&1 || echo "warning: apt-get update failed; trying the install anyway"
if [ ${#need[@]} -gt 0 ]; then
  echo "installing sound library packages: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
    || echo "warning: could not install some of ${need[*]} (library build names what is missing)"
fi
if [ $need_scratch = 1 ]; then
  echo "extracting the scratch package's sounds into $scratch_dir"
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download scratch >/dev/null 2>&1) && mkdir -p "$cache" \
     && dpkg-deb -x "$tmp"/scratch_*.deb "$tmp/x" && rm -rf "$scratch_dir" && mv "$tmp/x" "$scratch_dir"; then
    :
  else
    echo "warning: could not download or extract scratch (its classes are left out)"
  fi
  rm -rf "$tmp"
fi
exit 0
