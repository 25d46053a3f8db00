#!/bin/bash
# Session 3: temporal fine-tunes of the new starry_night-fast (pf4: project-first decoder, style weight 4), with the
# style weight raised 1.4x during the fine-tune to pay for the style the temporal term takes, and mosaic-fast's
# second step. Run as three 1-thread jobs side by side: $1 = v1 | v2 | mosaic.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress"
case "$1" in
v1) $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 5.6 --arch fast --size 256 --lr 1e-3 --steps 500 --max-minutes 30 --init runs/s3/starry_night-fast-pf4.safetensors --temporal --temporal-weight 1.2e8 --out runs/s3/starry_night-fast-temporal-v1.safetensors --run-dir runs/s3/starry_night-fast-temporal-v1 ;;
v2) $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 5.6 --arch fast --size 256 --lr 1e-3 --steps 500 --max-minutes 30 --init runs/s3/starry_night-fast-pf4.safetensors --temporal --temporal-weight 8e7 --out runs/s3/starry_night-fast-temporal-v2.safetensors --run-dir runs/s3/starry_night-fast-temporal-v2 ;;
mosaic) $T --style $M/styles/mosaic.jpg --style-name mosaic --style-weight 7.0 --arch fast --size 128 --lr 1e-3 --steps 2000 --max-minutes 30 --init runs/s3/mosaic-fast-sw3.safetensors --out runs/s3/mosaic-fast-sw7.safetensors --run-dir runs/s3/mosaic-fast-sw7 ;;
esac
# v3 (after the tables of v1/v2: car-detection kept 1.30-1.36x style loss): more style weight, half the noise.
# v3) $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 7.0 --arch fast --size 256 --lr 1e-3 --steps 500 --max-minutes 30 --init runs/s3/starry_night-fast-pf4.safetensors --temporal --temporal-weight 8e7 --temporal-noise 0.01 --out runs/s3/starry_night-fast-temporal-v3.safetensors --run-dir runs/s3/starry_night-fast-temporal-v3 ;;
