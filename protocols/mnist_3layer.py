"""MNIST with two hidden layers, 784-500-500-10 (the paper's deeper network).

Online version: λ = 0.99999, ε = 0.15, g_L = 0.5, β = ±1, 30 free and 10 nudged steps
(η = 0.05), per-sample rates η_ff = (1.1, 0.75, 0.6)/20, η_fb = (0.17, 0.07)/20, per-epoch rate
factor 0.95^e for e < 15 and 0.9^e from epoch 15. The paper gives no accuracy for this row.

Data: as protocols/mnist.py (MNIST IDX files in --data-dir).

Run:   python protocols/mnist_3layer.py --epochs 50 --seeds 0 --out runs/mnist3
Time here (one core): 4.1 ms per training sample (`corinfo-sim bench --arch 784,500,500,10`; four
500×500 pathways a step against one), about 4 minutes per epoch.
"""
import sys

from corinfo_sim.params import Params
from corinfo_sim.protocol import Protocol, main

PROTOCOL = Protocol(
    name="mnist_3layer", dataset="mnist", epochs=50,
    paper_result="no accuracy reported for 784-500-500-10",
    params=Params(arch=(784, 500, 500, 10), lam=0.99999, epsilon=0.15, g_leak=0.5, eta=0.05, n_free=30,
                  n_nudged=10, beta=1.0, beta_sign="random", lr_ff=Protocol.online((1.1, 0.75, 0.6)),
                  lr_fb=Protocol.online((0.17, 0.07)), lr_schedule=((0, 0.95), (15, 0.9))),
)

if __name__ == "__main__":
    sys.exit(main(PROTOCOL, doc=__doc__))
