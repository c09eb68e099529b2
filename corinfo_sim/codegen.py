"""C++ code generation for all-to-all pathways (cpp_standalone device).

Brian2 generates a synapse's code as one loop over synapses that reads the pre- and
postsynaptic indices of each synapse from arrays; the scattered writes keep the compiler
from vectorising it. Every plastic pathway of a CorInfoMax network is all-to-all and stored
presynaptic-major (see :func:`corinfo_sim.network.weight_index`), so its summed variables and
per-sample plasticity can run as a loop nest over (pre, post) with contiguous memory access.

:class:`AllToAllCodeObject` is Brian2's standalone code object with two templates replaced
(``corinfo_sim/templates``): ``summed_variable`` and ``stateupdate`` (used by
``run_regularly``). The statements inside the loops are still the ones Brian2 generates from
the model equations; only the loops and the index loads differ, and a pathway whose synapses
are not laid out all-to-all, presynaptic-major, runs Brian2's synapse-order loop. All other
templates are Brian2's own. The runtime device keeps Brian2's code objects.
"""
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject


class AllToAllCodeObject(CPPStandaloneCodeObject):
    """Standalone code object whose synapse loops are vectorised for all-to-all pathways."""

    templater = CPPStandaloneCodeObject.templater.derive("corinfo_sim", templates_dir="templates")
