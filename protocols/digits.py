"""Digits, 64-100-10: the default network on the 1 797-image scikit-learn digits set.

The embedded data set (no download): X = pixels / 16, stratified 80/20 split with
random_state 0. Online learning with the simulator's defaults: λ = 0.99999, ε = 0.15, g_L = 0.5,
β = ±1, 30 free and 10 nudged steps (η = 0.05), per-sample rates η_ff = (0.5, 0.35), η_fb = 0.075,
per-epoch rate factor 0.95^e. Target: ≥ 97 % test accuracy within 20 epochs (a dense online
implementation of the same algorithm reaches ≈ 97.8 % in 15 epochs).

Run:   python protocols/digits.py --seeds 0,1,2,3,4 --out runs/digits_seeds
One seed of it with the command line (these settings are the digits defaults of `train`):
       corinfo-sim train --dataset digits --epochs 20 --seed 0 --out runs/digits_seeds/seed_0
Time here (one core): about 15 s to compile, then well under 1 s per epoch per seed.
"""
import sys

from corinfo_sim.params import make_params
from corinfo_sim.protocol import Protocol, main

PROTOCOL = Protocol(
    name="digits", dataset="digits", epochs=20,
    paper_result="not in the paper; a dense online implementation of the same algorithm: about 97.8 % after 15 epochs",
    params=make_params("antisparse", dataset="digits"),
)

if __name__ == "__main__":
    sys.exit(main(PROTOCOL, doc=__doc__))
