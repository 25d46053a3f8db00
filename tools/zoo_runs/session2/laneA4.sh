#!/bin/bash
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; $T --style $M/styles/great_wave.jpg --style-name great_wave --style-weight 4.0 --arch fast --size 128 --lr 2e-3 --max-minutes 12 --init models/great_wave-fast.safetensors --out runs/s2/great_wave-fast.safetensors --run-dir runs/s2/great_wave-fast
date; echo laneA4 done
