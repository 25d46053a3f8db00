#!/bin/bash
# Session 3: starry_night-fast distilled into a 32-channel fast net (for 720p live on 2 cores).
cd /work/main
M=../shared/media
.venv/bin/python -m vidstyle.cli.main train --data $M/train --style $M/styles/starry_night.jpg --style-name starry_night --teacher models/starry_night-fast.safetensors --arch fast --arch-param channels=32 --size 256 --batch 4 --lr 2e-3 --steps 5000 --max-minutes 40 --threads 1 --log-every 20 --checkpoint-every 500 --preview-every 1000 --no-progress --out runs/s3/starry_night-fast32.safetensors --run-dir runs/s3/starry_night-fast32
# Continued (started by hand after the first 5000 steps: the L1 gap was still falling):
# .venv/bin/python -m vidstyle.cli.main train --data $M/train --style $M/styles/starry_night.jpg --style-name starry_night --teacher models/starry_night-fast.safetensors --arch fast --size 256 --batch 4 --lr 1e-3 --steps 100000 --max-minutes 15 --threads 1 --log-every 20 --checkpoint-every 500 --preview-every 1000 --no-progress --init runs/s3/starry_night-fast32.safetensors --out runs/s3/starry_night-fast32b.safetensors --run-dir runs/s3/starry_night-fast32b
