#!/bin/bash
cd /work/main
while kill -0 13555 2>/dev/null; do sleep 3; done
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch fast --size 256 --lr 1e-3 --max-minutes 11 --init models/starry_night-fast.safetensors --temporal --temporal-weight 1.5e7 --out runs/s2/starry_night-fast-temporal15.safetensors --run-dir runs/s2/starry_night-fast-temporal15
date; echo laneA5 done
