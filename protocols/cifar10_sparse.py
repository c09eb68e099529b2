"""CIFAR-10 with sparse CorInfoMax, 3072-1000-10 (the paper's CorInfoMax-Sparse row, 51.19 %).

The authors' settings (batch 20) translated to online learning: every layer sparse with
η_s = (1e-5, 0.01); λ = 0.99999, ε = 0.15, g_L = 0.1, β = ±1, 30 free and 10 nudged steps,
neural step η = 0.025 with the free-phase schedule, per-sample rates η_ff = (0.09, 0.07)/20 and
η_fb = 0.045/20, per-epoch rate factor 0.95^e. Inputs normalised per channel as in the paper.
``--authors-discretisation``: see protocols/fashion_mnist_sparse.py.

Data: CIFAR-10 cannot be downloaded here: put the python-version batches into --data-dir
(default: $CORINFO_DATA, then ~/.corinfo/data/cifar10).

Run:   python protocols/cifar10_sparse.py --epochs 50 --seeds 0 --out runs/cifar10_sparse
One seed of it with the command line (these settings are the cifar10 defaults of `train --model sparse`):
       corinfo-sim train --model sparse --dataset cifar10 --epochs 50 --seed 0 --out runs/cifar10_sparse/seed_0
Time here (one core): as protocols/cifar10.py (6.1 ms per training sample, about 5 minutes per epoch).
"""
import sys

from corinfo_sim.params import make_params
from corinfo_sim.protocol import Protocol, main

PROTOCOL = Protocol(
    name="cifar10_sparse", dataset="cifar10", epochs=50,
    paper_result="CorInfoMax-Sparse 51.19 % test accuracy (batch 20)",
    params=make_params("sparse", dataset="cifar10"),
)

if __name__ == "__main__":
    sys.exit(main(PROTOCOL, doc=__doc__))
