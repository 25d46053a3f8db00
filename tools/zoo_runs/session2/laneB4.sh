#!/bin/bash
# Quality: grid fine-tune, then its temporal fine-tune (weight 1e7), then mosaic-quality at a lower style weight.
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 250 --no-progress --steps 100000"
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch quality --size 128 --lr 5e-4 --max-minutes 10 --init runs/s2/starry_night-quality.safetensors --out runs/s2/starry_night-quality-g.safetensors --run-dir runs/s2/starry_night-quality-g
date; $T --style $M/styles/starry_night.jpg --style-name starry_night --style-weight 1.0 --arch quality --size 128 --lr 5e-4 --max-minutes 8 --init runs/s2/starry_night-quality-g.safetensors --temporal --temporal-weight 1e7 --out runs/s2/starry_night-quality-temporal.safetensors --run-dir runs/s2/starry_night-quality-temporal
date; $T --style $M/styles/mosaic.jpg --style-name mosaic --style-weight 0.3 --arch quality --size 128 --lr 1e-3 --max-minutes 8 --init runs/s2/mosaic-quality.safetensors --out runs/s2/mosaic-quality-g.safetensors --run-dir runs/s2/mosaic-quality-g
date; echo laneB4 done
