#!/bin/bash
# A sweep on a SLURM cluster: one Dask scheduler and one worker per task, all in one job.
# Every node sees the repository and its .venv (a shared file system); points write their run
# folders under --out on that file system, and compiled networks go to each node's build cache.
#
#   sbatch docs/slurm_sweep.sh protocols/sweeps/fashion_mnist_full.toml runs/fashion_full
#
#SBATCH --job-name=corinfo-sweep
#SBATCH --ntasks=20              # Dask workers: one point at a time each
#SBATCH --cpus-per-task=1
#SBATCH --mem-per-cpu=4G
#SBATCH --time=12:00:00
set -euo pipefail
spec=$1
out=$2
venv=$(pwd)/.venv
scheduler_file=$out.scheduler.json
export OMP_NUM_THREADS=1
# the scheduler on this (the first) node, the workers on every task of the job
"$venv/bin/dask" scheduler --scheduler-file "$scheduler_file" --no-dashboard &
while [ ! -s "$scheduler_file" ]; do sleep 1; done
srun "$venv/bin/dask" worker --scheduler-file "$scheduler_file" --nthreads 1 --no-dashboard &
address=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['address'])" "$scheduler_file")
# --resume: a job that was stopped (time limit, preemption) continues where it left off
resume=$([ -e "$out/sweep.toml" ] && echo --resume || true)
"$venv/bin/corinfo-sim" sweep "$spec" --out "$out" --scheduler "$address" $resume
