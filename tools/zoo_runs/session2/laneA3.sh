#!/bin/bash
# After starry_night-fast-g: the temporal fine-tune at a lower weight (1e8 took too much style).
cd /work/main
while kill -0 12554 2>/dev/null; do sleep 5; done
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch fast --size 256 --lr 1e-3 --max-minutes 12 --init runs/s2/starry_night-fast-g.safetensors --temporal --temporal-weight 3e7 --out runs/s2/starry_night-fast-temporal3.safetensors --run-dir runs/s2/starry_night-fast-temporal3
date; echo laneA3 done
