#!/bin/bash
# Session 3 lane A (1 thread): starry_night-fast moved to the project-first decoder (tools/fast_project_first.py)
# and fine-tuned at twice the style weight, for the fast/quality style-loss goal and 720p speed.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; .venv/bin/python tools/fast_project_first.py models/starry_night-fast.safetensors runs/s3/starry_night-fast-pf-init.safetensors
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 2.0 --arch fast --size 256 --lr 1e-3 --max-minutes 35 --init runs/s3/starry_night-fast-pf-init.safetensors --out runs/s3/starry_night-fast-pf.safetensors --run-dir runs/s3/starry_night-fast-pf
date; echo laneA done
# Second step (started by hand: at style weight 2 the 512-px style loss was 1.23x the quality model's, goal 1.2):
# date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 4.0 --arch fast --size 256 --lr 1e-3 --max-minutes 15 --init runs/s3/starry_night-fast-pf.safetensors --out runs/s3/starry_night-fast-pf4.safetensors --run-dir runs/s3/starry_night-fast-pf4
