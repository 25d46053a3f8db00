#!/bin/bash
# Session 6: a temporal fine-tune of the new starry_night-fast-lite (the 720p live net), so that 720p live and
# `vidstyle video --model starry_night-fast-lite --temporal trained` get a steadier net. Two settings side by
# side, one thread each, 36 minutes, then the temporal table (lite as `none`, the fine-tune as `trained`).
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
run() {  # name style_weight temporal_weight
  nice -n -5 $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight $2 --arch fast --size 256 --lr 1e-3 --max-minutes 36 --init models/starry_night-fast-lite.safetensors --temporal --temporal-weight $3 --temporal-noise 0.01 --out runs/s6/lite-temporal-$1.safetensors --run-dir runs/s6/lite-temporal-$1 > runs/s6/lite-temporal-$1.log 2>&1
  .venv/bin/python benchmarks/temporal_table.py --frames 48 --long-side 320 --threads 1 --optimize-clips "" --no-gatys-baseline --model starry_night-fast-lite --temporal-model runs/s6/lite-temporal-$1.safetensors --json runs/s6/table-lt-$1.json > runs/s6/table-lt-$1.txt 2>&1
}
run a 12.0 1e8 &
run b 15.0 1.5e8 &
wait
