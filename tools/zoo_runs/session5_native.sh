#!/bin/bash
# Session 5: the temporal table runs at 320 px; this checks clips (default asl-book and asl-again) at native size,
# all frames, the way a user would: `vidstyle video` then `vidstyle eval-temporal` on the encoded files.
# usage: [CLIPS="asl-book.mkv ..."] session5_native.sh NAME=MODEL [NAME=MODEL ...]
cd /work/main
M=../shared/media; O=runs/s5/native; mkdir -p $O
for clip in ${CLIPS:-asl-book.mkv asl-again.mkv}; do
  for spec in "$@"; do
    name=${spec%%=*}; model=${spec#*=}
    .venv/bin/vidstyle video $M/video/$clip $O/$clip-$name.mp4 --model $model --overwrite > /dev/null 2>&1
    .venv/bin/vidstyle eval-temporal $M/video/$clip $O/$clip-$name.mp4 --style $M/styles/starry_night.jpg --loss-every 2 --json > $O/$clip-$name.json 2>/dev/null
    echo "$clip $name $(.venv/bin/python -c "import json,sys; d=json.load(open('$O/$clip-$name.json')); print({k: d[k] for k in d if isinstance(d[k], (int, float))})")"
  done
done
