#!/bin/bash
# Session 3 lane B (1 thread): mosaic-fast continued at 256 px and a higher style weight (it was the lightest match).
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; $T --style $M/styles/mosaic.jpg --style-name mosaic --style-weight 1.2 --arch fast --size 256 --lr 1e-3 --max-minutes 25 --init models/mosaic-fast.safetensors --out runs/s3/mosaic-fast-256.safetensors --run-dir runs/s3/mosaic-fast-256
date; echo laneB done
# Second step (started by hand after the first; the 256-px run moved the 512-px style loss only 6%):
# date; $T --style $M/styles/mosaic.jpg --style-name mosaic --style-weight 3.0 --arch fast --size 128 --lr 1e-3 --max-minutes 15 --init runs/s3/mosaic-fast-256.safetensors --out runs/s3/mosaic-fast-sw3.safetensors --run-dir runs/s3/mosaic-fast-sw3
