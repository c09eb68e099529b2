"""MNIST with sparse CorInfoMax, 784-500-10 (the paper's CorInfoMax-Sparse row, 97.71 ± 0.10 %).

The authors' settings (batch 20, 50 epochs, 10 seeds) translated to online learning: every layer
sparse with η_s = (1e-6, 0.01); λ = 0.99999, ε = 0.15, g_L = 0.5, β = ±1, 20 free and 4 nudged
steps, neural step η = 0.05 with the free-phase schedule, per-sample rates η_ff = (1.0, 0.7)/20
and η_fb = 0.15/20, per-epoch rate factor 0.95^e. ``--authors-discretisation``: see
protocols/fashion_mnist_sparse.py.

Data: MNIST cannot be downloaded here: put the four IDX files into --data-dir (default:
$CORINFO_DATA, then ~/.corinfo/data/mnist).

Run:   python protocols/mnist_sparse.py --epochs 50 --seeds 0,10,20 --out runs/mnist_sparse
One seed of it with the command line (these settings are the mnist defaults of `train --model sparse`):
       corinfo-sim train --model sparse --dataset mnist --epochs 50 --seed 0 --out runs/mnist_sparse/seed_0
Time here (one core): as protocols/fashion_mnist_sparse.py (same architecture and data size, 24
steps per sample instead of 30).
"""
import sys

from corinfo_sim.params import make_params
from corinfo_sim.protocol import Protocol, main

PROTOCOL = Protocol(
    name="mnist_sparse", dataset="mnist", epochs=50,
    paper_result="CorInfoMax-Sparse 97.71 ± 0.10 % test accuracy (50 epochs, batch 20, 10 seeds)",
    params=make_params("sparse", dataset="mnist"),
)

if __name__ == "__main__":
    sys.exit(main(PROTOCOL, doc=__doc__))
