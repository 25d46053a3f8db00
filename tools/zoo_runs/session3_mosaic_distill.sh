#!/bin/bash
# Session 3, last try at mosaic's fast/quality gap: mosaic-fast distilled from mosaic-quality (pixel L1), $1 = lr.
cd /work/main
M=../shared/media
.venv/bin/python -m vidstyle.cli.main train --data $M/train --style $M/styles/mosaic.jpg --style-name mosaic --teacher models/mosaic-quality.safetensors --arch fast --size 256 --batch 4 --lr $1 --steps 100000 --max-minutes 18 --threads 1 --log-every 20 --checkpoint-every 500 --preview-every 1000 --no-progress --init models/mosaic-fast.safetensors --out runs/s3/mosaic-fast-distill-$1.safetensors --run-dir runs/s3/mosaic-fast-distill-$1
