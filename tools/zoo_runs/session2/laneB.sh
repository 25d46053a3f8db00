#!/bin/bash
# Session 2 lane B (1 thread): starry_night-quality and mosaic-quality at 128 px, then the quality temporal fine-tune.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch quality --size 128 --lr 2e-3 --max-minutes 35 --out runs/s2/starry_night-quality.safetensors --run-dir runs/s2/starry_night-quality
date; $T --style $M/styles/mosaic.jpg --style-name mosaic --style-weight 0.7 --arch quality --size 128 --lr 2e-3 --max-minutes 30 --out runs/s2/mosaic-quality.safetensors --run-dir runs/s2/mosaic-quality
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch quality --size 128 --lr 5e-4 --max-minutes 12 --init runs/s2/starry_night-quality.safetensors --temporal --temporal-weight 1e8 --out runs/s2/starry_night-quality-temporal.safetensors --run-dir runs/s2/starry_night-quality-temporal
date; echo laneB done
