#!/bin/bash
# Session 4: v6 met both goals on 4 clips (car-detection 1.10x style) but asl-book's E_warp is 0.53x.
# v7: v6 with the style and temporal weights both raised ~1.2x (relatively less content weight), 1000 steps.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress"
$T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 11.0 --arch fast --size 256 --lr 5e-4 --steps 1000 --max-minutes 22 --init runs/s4/starry_night-fast-temporal-v6.safetensors --temporal --temporal-weight 1.25e8 --temporal-noise 0.01 --out runs/s4/starry_night-fast-temporal-v7.safetensors --run-dir runs/s4/starry_night-fast-temporal-v7
.venv/bin/python benchmarks/temporal_table.py --frames 48 --long-side 320 --threads 2 --optimize-clips "" --temporal-model runs/s4/starry_night-fast-temporal-v7.safetensors --json runs/s4/table-v7.json > runs/s4/table-v7.txt 2>&1
