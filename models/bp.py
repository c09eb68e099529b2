"""Backprop: the feed-forward reference with weight transport (``corinfo_sim/references.py``).

The CorInfoMax network's architecture as a layered feed-forward network of hard-sigmoid units,
trained online by stochastic gradient descent on the mean-squared error ½ ‖h_L − y‖²: the error
of layer k reaches it through W_{k+1}ᵀ, the forward weights themselves. Dense numpy, not a neural
simulation; it writes the same run folders and takes part in the same sweeps and figures.

======================  ==========================  ======================================
symbol                  weights file                meaning
======================  ==========================  ======================================
W_k                     ``W{k}`` (n_k × n_{k−1})    forward weights
b_k                     ``b{k}`` (n_k,)             biases
η_k                     ``--lr``                    per-sample learning rates
======================  ==========================  ======================================
"""
from corinfo_sim.references import variant

#: Settings per data set: the same for both references (``models/fa.py``); the rates were chosen
#: with backprop on each data set's first epochs (seed 0), then kept for feedback alignment.
DATASET_DEFAULTS = {
    "digits": dict(arch=(64, 100, 10), lr=(0.1, 0.05)),
    "fashion-mnist": dict(arch=(784, 500, 10), lr=(0.01, 0.005)),
    "mnist": dict(arch=(784, 500, 10), lr=(0.01, 0.005)),
    "cifar10": dict(arch=(3072, 1000, 10), lr=(0.002, 0.001)),
}

VARIANT = variant("bp", "backprop: a feed-forward reference, hard-sigmoid units, MSE, online SGD, errors "
                        "through W_{k+1}ᵀ", DATASET_DEFAULTS)
