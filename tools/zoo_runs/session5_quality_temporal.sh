#!/bin/bash
# Session 5: starry_night-quality-temporal keeps 1.12x / 1.16x the style loss of starry_night-quality on the two
# webcam clips (goal 1.1x), with car-detection's E_warp at 0.49x. Two continuations with more style weight and a
# matching rise in temporal weight, side by side on one thread each (24 minutes), then the quality-pair table.
#   qa: style weight 1.3, temporal weight 1.2e7;  qb: style weight 1.5, temporal weight 1.5e7
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
run() {  # name style_weight temporal_weight
  nice -n -5 $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight $2 --arch quality --size 128 --lr 5e-4 --max-minutes 24 --init models/starry_night-quality-temporal.safetensors --temporal --temporal-weight $3 --temporal-noise 0.02 --out runs/s5/starry_night-quality-temporal-$1.safetensors --run-dir runs/s5/starry_night-quality-temporal-$1 > runs/s5/quality-temporal-$1.log 2>&1
  .venv/bin/python benchmarks/temporal_table.py --frames 48 --long-side 320 --threads 1 --optimize-clips "" --model starry_night-quality --temporal-model runs/s5/starry_night-quality-temporal-$1.safetensors --json runs/s5/table-quality-$1.json > runs/s5/table-quality-$1.txt 2>&1
}
run qa 1.3 1.2e7 &
run qb 1.5 1.5e7 &
wait
