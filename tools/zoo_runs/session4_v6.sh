#!/bin/bash
# Session 4: v5's table moved every clip the right way over v4 (car-detection 1.17 -> 1.15x style, asl-book E_warp
# 0.53 -> 0.52x): v6 continues v5 with the same settings for 1000 more steps.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress"
$T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 9.0 --arch fast --size 256 --lr 5e-4 --steps 1000 --max-minutes 30 --init runs/s4/starry_night-fast-temporal-v5.safetensors --temporal --temporal-weight 1e8 --temporal-noise 0.01 --out runs/s4/starry_night-fast-temporal-v6.safetensors --run-dir runs/s4/starry_night-fast-temporal-v6
.venv/bin/python benchmarks/temporal_table.py --frames 48 --long-side 320 --threads 1 --optimize-clips "" --temporal-model runs/s4/starry_night-fast-temporal-v6.safetensors --json runs/s4/table-v6.json > runs/s4/table-v6.txt 2>&1
