#!/bin/bash
# Session 4: two 1-thread jobs side by side: $1 = mosaic-w64 | temporal-v4.
# mosaic-w64: mosaic-fast widened to 64 channels (tools/widen_fast.py, output unchanged at the start), then the
#   session-3 recipe continued (128 px, style weight 7) to see if capacity closes mosaic's fast/quality gap.
# temporal-v4: after v3 (style weight 7, noise 0.01: car-detection 1.22x style), more style weight still.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress"
case "$1" in
mosaic-w64)
  .venv/bin/python tools/widen_fast.py models/mosaic-fast.safetensors runs/s4/mosaic-w64-init.safetensors --channels 64
  $T --style $M/styles/mosaic.jpg --style-name mosaic --style-weight 7.0 --arch fast --size 128 --lr 1e-3 --steps 4000 --max-minutes 70 --init runs/s4/mosaic-w64-init.safetensors --out runs/s4/mosaic-fast-w64.safetensors --run-dir runs/s4/mosaic-fast-w64 ;;
temporal-v4)
  $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 9.0 --arch fast --size 256 --lr 1e-3 --steps 500 --max-minutes 35 --init models/starry_night-fast.safetensors --temporal --temporal-weight 8e7 --temporal-noise 0.01 --out runs/s4/starry_night-fast-temporal-v4.safetensors --run-dir runs/s4/starry_night-fast-temporal-v4 ;;
temporal-v5) $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 9.0 --arch fast --size 256 --lr 5e-4 --steps 1000 --max-minutes 35 --init runs/s4/starry_night-fast-temporal-v4.safetensors --temporal --temporal-weight 1e8 --temporal-noise 0.01 --out runs/s4/starry_night-fast-temporal-v5.safetensors --run-dir runs/s4/starry_night-fast-temporal-v5 ;;
mosaic-w64-256) $T --style $M/styles/mosaic.jpg --style-name mosaic --style-weight 7.0 --arch fast --size 256 --lr 5e-4 --steps 3000 --max-minutes 45 --init runs/s4/mosaic-fast-w64.safetensors --out runs/s4/mosaic-fast-w64-256.safetensors --run-dir runs/s4/mosaic-fast-w64-256 ;;
esac
# v4's table: car-detection 1.17x style, asl-book E_warp 0.53x (v3: 1.22x, 0.50x). v5: continue v4 longer with a
# little more temporal weight, to see whether training time moves both at once.
# temporal-v5) $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 9.0 --arch fast --size 256 --lr 5e-4 --steps 1000 --max-minutes 35 --init runs/s4/starry_night-fast-temporal-v4.safetensors --temporal --temporal-weight 1e8 --temporal-noise 0.01 --out runs/s4/starry_night-fast-temporal-v5.safetensors --run-dir runs/s4/starry_night-fast-temporal-v5 ;;
# mosaic-w64 (4000 steps, 24 min): quality benchmark style 1.16x, content 0.94x of mosaic-quality (mosaic-fast: 1.36x,
# 0.85x), but the sheet still shows diagonal hatching rather than tiles. mosaic-w64-256: the same net at 256 px.
