#!/usr/bin/env bash
# Re-renders the README gallery from the shared media set (../shared/media, not part of this repository).
# Run from the repository root: bash docs/gallery/make_gallery.sh
# The four renders run side by side with one thread each (the development machine has 2 cores).
set -euo pipefail
MEDIA="${VIDSTYLE_MEDIA:-../shared/media}"
C="$MEDIA/content"; S="$MEDIA/styles"; OUT=docs/gallery
COMMON=(--scales 128,256 --steps 80 --seed 0 --quiet)
export OMP_NUM_THREADS=1

vidstyle image "$C/tubingen.jpg" "$S/starry_night.jpg" "$OUT/tubingen-starry_night.jpg" "${COMMON[@]}" &
vidstyle image "$C/golden_gate.jpg" "$S/great_wave.jpg" "$OUT/golden_gate-great_wave.jpg" "${COMMON[@]}" &
vidstyle image "$C/chicago.jpg" "$S/the_scream.jpg" "$OUT/chicago-the_scream-preserve_color.jpg" "${COMMON[@]}" --preserve-color &
vidstyle image "$C/sailboat.jpg" "$S/starry_night.jpg" "$S/great_wave.jpg" "$OUT/sailboat-starry_night+great_wave.jpg" "${COMMON[@]}" --style-blend 0.5,0.5 &
wait
