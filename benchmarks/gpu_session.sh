#!/usr/bin/env bash
# One short, prepared GPU check for a lent CUDA machine (device time is scarce: run this, not ad-hoc commands).
#
#   bash benchmarks/gpu_session.sh [OUT_DIR]      # about 6-8 minutes on an H100/H200
#
# 1. the CUDA tests (fp16 vs CPU fp32, batched streams, GPU file mode);
# 2. benchmarks/experiments/gpu_variants.py: the quality net at 1080p, batch 8, eager and compiled, for the exact
#    rewrites (base, fold, fold+s2d, fold+s2d4), with a kernel profile, against the 240 fps GPU target;
# 3. benchmarks/bench_gpu.py, short: compiled quality and fast nets at 1080p and `vidstyle video` end to end
#    (GPU file mode, with the encoder's OpenCV RGB->YUV conversion).
# Every step has its own time limit, so one slow step cannot eat the others; results land in OUT_DIR as JSON and
# logs. PyAV must be importable: on a bare machine, carry its wheel in .whl/ (installed into a temporary folder).
set -u
OUT_DIR=${1:-${OUT:-gpu-out}}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)  # absolute: the steps run from the repository root
cd "$(dirname "$0")/.."
if ls .whl/*.whl >/dev/null 2>&1; then
    SITE=$(mktemp -d)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
    export PYTHONPATH=$SITE:$PWD
else
    export PYTHONPATH=$PWD
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT_DIR/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())" \
    | tee -a "$OUT_DIR/gpu.txt"

step() {  # name seconds command...
    local name=$1 limit=$2; shift 2
    echo "== $name (limit ${limit}s)"
    timeout "$limit" "$@" > "$OUT_DIR/$name.log" 2>&1
    echo "   exit $? ; last lines:"; tail -n 15 "$OUT_DIR/$name.log"
}
step cuda-tests 120 python3 -m pytest -q -p no:cacheprovider tests/runtime/test_cuda.py
step variants 240 python3 benchmarks/experiments/gpu_variants.py --json "$OUT_DIR/variants.json" --autotune ""
step bench 200 python3 benchmarks/bench_gpu.py --models starry_night-quality,starry_night-fast-painted --batches 8 --precisions fp16 \
    --no-cuda-graph --compile starry_night-quality,starry_night-fast-painted --video-models starry_night-quality \
    --video-frames 240 --json "$OUT_DIR/bench.json"
