#!/usr/bin/env bash
# One check of skbait on a CUDA machine (issue 14): the CUDA tests, then the
# scale grid on the GPU with CPU figures beside it. Designed to finish in under
# 8 minutes on one H200 (every step has its own time limit); run it from
# anywhere:
#
#     bash benchmarks/gpu_check.sh            # writes gpu_check.log in the current directory
#
# Without a CUDA device it says so and exits 2 (the CUDA tests themselves skip
# cleanly on a CPU-only machine: they are marked skipif(not cuda)).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
LOG="${LOG:-$PWD/gpu_check.log}"
START=$SECONDS
status=0
# Some CUDA images have only `python3`.
PYTHON="${PYTHON:-$(command -v python || command -v python3)}"

"$PYTHON" - <<'PY' || exit 2
import torch
if not torch.cuda.is_available():
    raise SystemExit("gpu_check.sh: no CUDA device visible to torch; nothing to check.")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}, "
      f"{torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB")
PY
nvidia-smi --query-gpu=name,memory.used,memory.total,utilization.gpu --format=csv 2>/dev/null || true

echo "== 1. CUDA tests (CPU and CUDA selections in float64 must be identical)"
timeout 60 "$PYTHON" -m pytest -q -p no:cacheprovider -rs \
    tests/test_bait.py tests/test_logdet.py tests/test_badge.py tests/test_coreset.py \
    tests/test_determinism.py tests/test_approximations.py tests/test_skorch.py \
    -k "cuda" 2>&1 | tee -a "$LOG" | tail -15
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== 2. the scale grid on the GPU, the GPU goal first; float64 cases on the CPU beside it (<= 50 s each)"
# Exact k=100 in float32 (the GPU goal: under 60 s); exact n=50,000 d=512 k=10
# B=100 (float64, float32), B=1000; the default call at k=100 and k=1000.
timeout 400 "$PYTHON" benchmarks/bench_scale.py --device cuda --only matmul exact default gpu \
    --timeout 120 --cpu-beside 50 2>&1 | tee -a "$LOG" | tail -25
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== done in $((SECONDS - START)) s (status $status); log: $LOG"
exit $status
