#!/bin/bash
# Session 3, last try at mosaic's fast/quality gap: mosaic-fast distilled from mosaic-quality (pixel L1), $1 = lr.
cd /work/main
M=../shared/media
.venv/bin/python -m vidstyle.cli.main train --data $M/train --style $M/styles/mosaic.jpg --style-name mosaic --teacher models/mosaic-quality.safetensors --arch fast --size 256 --batch 4 --lr $1 --steps 100000 --max-minutes 18 --threads 1 --log-every 20 --checkpoint-every 500 --preview-every 1000 --no-progress --init models/mosaic-fast.safetensors --out runs/s3/mosaic-fast-distill-$1.safetensors --run-dir runs/s3/mosaic-fast-distill-$1
# Result (00:56 UTC, benchmarks/quality.py): style loss 2.38e6 (lr 1e-3) and 2.66e6 (lr 3e-4) against mosaic-fast's
# 1.07e6 and the unstylized photo's 2.70e6. A pixel L1 target this far from the student's output averages the
# tiles away: distillation only works here from a teacher the student can nearly match. Not shipped.
