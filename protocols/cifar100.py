"""CIFAR-100, 3072-2000-1000-100, 50 free and 20 nudged steps, top-1 and top-5 accuracy.

The paper's CIFAR-100 network. Its learning rates are not among the settings this project
documents; the rates here follow the CIFAR-10 row (per sample: η_ff = (0.08, 0.04, 0.04)/20,
η_fb = (0.04, 0.04)/20), with λ = 0.99999, ε = 0.15, g_L = 0.1, β = ±1, η = 0.05, decay 0.95^e.
Top-5 accuracy is in metrics.json (test_top5) and the summary.

Data: the python-version files train and test (or the folder cifar-100-python) in --data-dir
(default: $CORINFO_DATA, then ~/.corinfo/data/cifar100); fine labels.

Run:   python protocols/cifar100.py --epochs 50 --seeds 0 --out runs/cifar100
One seed of it with the command line (these settings are the cifar100 defaults of `train`):
       corinfo-sim train --dataset cifar100 --epochs 50 --seed 0 --out runs/cifar100/seed_0
Time here (one core): 96 ms per training sample at 40 steps (`corinfo-sim bench --arch
3072,2000,1000,100`; the 2000×2000 lateral weights alone fill the 32 MB cache), so about 170 ms
at this protocol's 70 steps: about 2.4 hours per epoch, days for 50 epochs.
"""
import sys

from corinfo_sim.params import make_params
from corinfo_sim.protocol import Protocol, main

PROTOCOL = Protocol(
    name="cifar100", dataset="cifar100", epochs=50,
    paper_result="CIFAR-100 3072-2000-1000-100 (top-1 and top-5 test accuracy)",
    params=make_params("antisparse", dataset="cifar100"),
)

if __name__ == "__main__":
    sys.exit(main(PROTOCOL, doc=__doc__))
