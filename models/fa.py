"""Feedback alignment: the feed-forward reference without weight transport (``corinfo_sim/references.py``).

Backprop's network and loss (``models/bp.py``), but the error of layer k reaches it through a
fixed random matrix F_k (n_k × n_{k+1}, Xavier-uniform, never learned) instead of W_{k+1}ᵀ
(Lillicrap et al. 2016). Like CorInfoMax it has separate forward and feedback paths; the angle
between W_{k+1} and F_kᵀ (``diagnostics.npz``, ``figure angle``) shows how far the forward weights
align with the fixed feedback.

======================  ==========================  ======================================
symbol                  weights file                meaning
======================  ==========================  ======================================
W_k                     ``W{k}`` (n_k × n_{k−1})    forward weights
b_k                     ``b{k}`` (n_k,)             biases
F_k                     ``F{k}`` (n_k × n_{k+1})    fixed feedback weights, k = 1..L−1
η_k                     ``--lr``                    per-sample learning rates
======================  ==========================  ======================================
"""
from corinfo_sim.references import variant

from .bp import DATASET_DEFAULTS

VARIANT = variant("fa", "feedback alignment: backprop's reference with fixed random feedback F_k instead of "
                        "W_{k+1}ᵀ", DATASET_DEFAULTS)
