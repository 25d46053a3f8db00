#!/bin/bash
# Session 4: v7 (car-detection 1.08x style, asl-book E_warp 0.52x): v8 spends the style margin on stability.
# v8: v7 with the temporal weight 1.5e8, 18 minutes.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 2 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress"
$T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 11.0 --arch fast --size 256 --lr 5e-4 --steps 1000 --max-minutes 18 --init runs/s4/starry_night-fast-temporal-v7.safetensors --temporal --temporal-weight 1.5e8 --temporal-noise 0.01 --out runs/s4/starry_night-fast-temporal-v8.safetensors --run-dir runs/s4/starry_night-fast-temporal-v8
.venv/bin/python benchmarks/temporal_table.py --frames 48 --long-side 320 --threads 2 --optimize-clips "" --temporal-model runs/s4/starry_night-fast-temporal-v8.safetensors --json runs/s4/table-v8.json > runs/s4/table-v8.txt 2>&1
