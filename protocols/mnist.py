"""MNIST, 784-500-10 (the paper's Table 1 row, CorInfoMax 97.6 ± 0.1 % after 50 epochs).

Online version of the paper's MNIST experiment: λ = 0.99999, ε = 0.15, g_L = 0.5, β = ±1, 30 free
and 10 nudged steps (η = 0.05), per-sample rates η_ff = (1.0, 0.7)/20, η_fb = 0.15/20, per-epoch
rate factor 0.95^e for e < 15 and 0.9^e from epoch 15.

Data: MNIST cannot be downloaded here. Put train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz),
t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) into --data-dir (default:
$CORINFO_DATA, then ~/.corinfo/data/mnist).

Run:   python protocols/mnist.py --epochs 50 --seeds 0,10,20 --out runs/mnist
One seed of it with the command line (these settings are the mnist defaults of `train`):
       corinfo-sim train --dataset mnist --epochs 50 --seed 0 --out runs/mnist/seed_0
Time here (one core): as Fashion-MNIST (same architecture and data size), see its docstring.
"""
import sys

from corinfo_sim.params import make_params
from corinfo_sim.protocol import Protocol, main

PROTOCOL = Protocol(
    name="mnist", dataset="mnist", epochs=50,
    paper_result="CorInfoMax 97.6 ± 0.1 % test accuracy (50 epochs, batch 20, 10 seeds)",
    params=make_params("antisparse", dataset="mnist"),
)

if __name__ == "__main__":
    sys.exit(main(PROTOCOL, doc=__doc__))
