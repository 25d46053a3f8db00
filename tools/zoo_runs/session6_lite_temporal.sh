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
[ "$1" = "continue" ] || run a 12.0 1e8 &
[ "$1" = "continue" ] || run b 15.0 1.5e8 &
wait
# Results (temporal table, lite as none): a 0.29-0.64x E_warp at 1.00-1.09x style; b 0.27-0.62x at 1.00-1.11x.
# Neither reaches 0.5x on the two ASL webcam clips. a is shipped as starry_night-fast-lite-temporal; two
# continuations of a at lr 5e-4, 28 minutes, each followed by the table on the two ASL clips only:
cont() {  # name style_weight temporal_weight
  nice -n -5 $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight $2 --arch fast --size 256 --lr 5e-4 --max-minutes 28 --init runs/s6/lite-temporal-a.safetensors --temporal --temporal-weight $3 --temporal-noise 0.01 --out runs/s6/lite-temporal-$1.safetensors --run-dir runs/s6/lite-temporal-$1 > runs/s6/lite-temporal-$1.log 2>&1
  .venv/bin/python benchmarks/temporal_table.py --clips asl-again.mkv,asl-book.mkv --frames 48 --long-side 320 --threads 1 --optimize-clips "" --no-gatys-baseline --model starry_night-fast-lite --temporal-model runs/s6/lite-temporal-$1.safetensors --json runs/s6/table-lt-$1.json > runs/s6/table-lt-$1.txt 2>&1
}
if [ "$1" = "continue" ]; then
  cont c 12.0 1.5e8 &
  cont d 14.0 2e8 &
  wait
fi
