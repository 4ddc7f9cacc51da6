#!/usr/bin/env bash
# Submit a sharded sweep as a SLURM job array plus a dependent merge job.
#   SHARDS=8 OUT=sweep-out bash examples/slurm/submit.sh
# Prints the array job id and the merge job id. See sweep.sbatch for the
# environment variables that configure the sweep.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SHARDS=${SHARDS:-4}
array=$(sbatch --parsable --array=0-$((SHARDS - 1)) "$here/sweep.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes "$here/merge.sbatch")
echo "$array ${merge%%;*}"
