#!/bin/bash
# Session 2 lane A (1 thread): starry_night-fast at 256 px from scratch, its temporal fine-tune, great_wave-fast continued.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch fast --size 256 --lr 2e-3 --max-minutes 45 --out runs/s2/starry_night-fast.safetensors --run-dir runs/s2/starry_night-fast
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch fast --size 256 --lr 1e-3 --max-minutes 15 --init runs/s2/starry_night-fast.safetensors --temporal --temporal-weight 1e8 --out runs/s2/starry_night-fast-temporal.safetensors --run-dir runs/s2/starry_night-fast-temporal
date; $T --style $M/styles/great_wave.jpg --style-name great_wave --style-weight 4.0 --arch fast --size 128 --lr 2e-3 --max-minutes 15 --init models/great_wave-fast.safetensors --out runs/s2/great_wave-fast.safetensors --run-dir runs/s2/great_wave-fast
date; echo laneA done
