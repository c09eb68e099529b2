"""CIFAR-10, 3072-1000-10 (the paper's Table 1 row, CorInfoMax ≈ 51–56 %).

Online version: λ = 0.99999, ε = 0.15, g_L = 0.1, β = ±1, 30 free and 10 nudged steps
(η = 0.05), per-sample rates η_ff = (0.08, 0.04)/20, η_fb = 0.04/20, per-epoch rate factor 0.95^e.
Inputs normalised per channel as in the paper: (x − mean) / (3 std).

Data: CIFAR-10 cannot be downloaded here. Put the python-version batches (data_batch_1..5,
test_batch, or the folder cifar-10-batches-py) into --data-dir (default: $CORINFO_DATA, then
~/.corinfo/data/cifar10).

Run:   python protocols/cifar10.py --epochs 50 --seeds 0 --out runs/cifar10
One seed of it with the command line (these settings are the cifar10 defaults of `train`):
       corinfo-sim train --dataset cifar10 --epochs 50 --seed 0 --out runs/cifar10/seed_0
Time here (one core): 6.1 ms per training sample (`corinfo-sim bench --arch 3072,1000,10`), so
about 5 minutes per epoch of 50 000 samples and 1 minute per test evaluation.
"""
import sys

from corinfo_sim.params import make_params
from corinfo_sim.protocol import Protocol, main

PROTOCOL = Protocol(
    name="cifar10", dataset="cifar10", epochs=50,
    paper_result="CorInfoMax about 51-56 % test accuracy (50 epochs, batch 20)",
    params=make_params("antisparse", dataset="cifar10"),
)

if __name__ == "__main__":
    sys.exit(main(PROTOCOL, doc=__doc__))
