#!/bin/bash
# Session 5: great_wave-fast and the_scream-fast stylize lightly (the quality benchmark's style loss for
# great_wave-fast is 0.81x of the unstylized photo's). Continue each at 256 px with a ~3x style weight,
# side by side on one thread each, 38 minutes, from the project-first conversion (tools/fast_project_first.py,
# runs/s5/STYLE-pf-init.safetensors: faster decoder, as starry_night-fast has).
cd /work/main
M=../shared/media; T=".venv/bin/python -m vidstyle.cli.main train --data $M/train --batch 2 --style-size 512 --threads 1 --log-every 10 --checkpoint-every 100 --preview-every 200 --no-progress --steps 100000"
run() {  # style style_weight
  nice -n -5 $T --style $M/styles/$1.jpg --style-name $1 --style-weight $2 --arch fast --size 256 --lr 1e-3 --max-minutes 38 --init runs/s5/$1-pf-init.safetensors --out runs/s5/$1-fast-s5.safetensors --run-dir runs/s5/$1-fast-s5 > runs/s5/$1-fast-s5.log 2>&1
}
run great_wave 12.0 &
run the_scream 9.0 &
wait
