"""The all-to-all code object gives Brian2's results for every synapse layout.

Summed variables onto either side, per-synapse updates (``run_regularly``) and spike transmission
(``on_pre``), against numpy, on the two layouts the code object vectorises and on three it must
leave to Brian2's own loops; on one thread and on several (the same to the bit), with rows of
inactive presynaptic neurons skipped. A group's own updates run in vectorisable loops and give
numpy's values.
"""
import brian2
import numpy as np
import pytest

from corinfo_sim import codegen
from corinfo_sim.codegen import AllToAllCodeObject
from corinfo_sim.network import connection_index, weight_index
from corinfo_sim.session import thread_environment


def layout(name):
    """``(n_pre, n_post, pre indices, post indices)`` of a synapse layout."""
    if name == "no_self":  # the spiking lateral pathway
        return (6, 6) + connection_index("all_but_self", 6, 6)
    n_pre, n_post = 7, 5
    i, j = weight_index(n_post, n_pre)
    if name == "post_major":
        order = np.lexsort((i, j))
        i, j = i[order], j[order]
    elif name == "sparse":
        keep = np.random.default_rng(3).random(len(i)) < 0.6
        i, j = i[keep], j[keep]
    elif name == "repeated":  # all pairs plus four multisynapses
        i, j = np.r_[i, i[:4]], np.r_[j, j[:4]]
    return n_pre, n_post, i, j


LAYOUTS = ["all_to_all", "no_self", "post_major", "sparse", "repeated"]


def simulate(tmp_path, n_pre, n_post, pre_idx, post_idx, w, x, y, threads=(1,)):
    """One compiled step; returns the summed inputs, the spike-driven sum and the updated weights.

    With several thread counts, the binary (compiled with OpenMP, every pathway split over the
    threads) runs once per count and the results of each run are returned in a list.
    """
    brian2.device.reinit()
    brian2.set_device("cpp_standalone", directory=str(tmp_path), build_on_run=False)
    openmp = len(threads) > 1
    flags = {pref: list(brian2.prefs[pref]) for pref in ("codegen.cpp.extra_compile_args_gcc",
                                                          "codegen.cpp.extra_link_args")}
    pre = brian2.NeuronGroup(n_pre, "x : 1\ns_back : 1", threshold="x > 0", name="pre")
    post = brian2.NeuronGroup(n_post, "y : 1\ns : 1\nreceived : 1", name="post")
    pre.x, post.y = x, y
    syn = brian2.Synapses(pre, post, "w : 1\ns_post = w*x_pre : 1 (summed)", on_pre="received_post += w*x_pre",
                          name="syn", codeobj_class=AllToAllCodeObject)
    back = brian2.Synapses(pre, post, "c : 1\ns_back_pre = c*y_post : 1 (summed)", name="back",
                           codeobj_class=AllToAllCodeObject)
    for s in (syn, back):
        s.connect(i=pre_idx, j=post_idx)
    syn.w = w
    back.c = w
    syn.run_regularly("w += 0.5*x_pre*s_post - y_post", when="end")
    net = brian2.Network(pre, post, syn, back)
    net.run(brian2.defaultclock.dt)
    templater_globals = AllToAllCodeObject.templater.env.globals
    try:
        if openmp:
            templater_globals["parallel_min"] = 1  # split even these few synapses over the threads
            for pref, value in flags.items():
                brian2.prefs[pref] = value + ["-fopenmp"]
        brian2.device.build(directory=str(tmp_path), compile=True, run=False, with_output=False)
    finally:
        templater_globals["parallel_min"] = codegen.PARALLEL_MIN
        for pref, value in flags.items():
            brian2.prefs[pref] = value
    results = []
    for n in threads:
        brian2.prefs.devices.cpp_standalone.run_environment_variables = thread_environment(n)
        brian2.device.run(with_output=False)
        results.append((np.array(post.s[:]), np.array(pre.s_back[:]), np.array(post.received[:]),
                        np.array(syn.w[:])))
    brian2.prefs.devices.cpp_standalone.run_environment_variables = {}
    return results if openmp else results[0]


@pytest.mark.standalone
@pytest.mark.parametrize("name", LAYOUTS)
def test_all_to_all_code_matches_numpy_for_every_layout(tmp_path, name):
    n_pre, n_post, pre_idx, post_idx = layout(name)
    rng = np.random.default_rng(0)
    w, x, y = rng.normal(size=len(pre_idx)), rng.normal(size=n_pre), rng.normal(size=n_post)
    x[[1, 4]] = 0  # inactive presynaptic neurons: their rows of s_post = w*x_pre are skipped
    s = np.zeros(n_post)
    np.add.at(s, post_idx, w * x[pre_idx])
    s_back = np.zeros(n_pre)
    np.add.at(s_back, pre_idx, w * y[post_idx])
    received = np.zeros(n_post)  # the presynaptic neurons with x > 0 spike
    spiked = x[pre_idx] > 0
    np.add.at(received, post_idx[spiked], (w * x[pre_idx])[spiked])
    w_new = w + 0.5 * x[pre_idx] * s[post_idx] - y[post_idx]

    got = simulate(tmp_path, n_pre, n_post, pre_idx, post_idx, w, x, y)
    for value, expected in zip(got, (s, s_back, received, w_new)):
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.standalone
def test_all_to_all_loops_are_generated(tmp_path):
    n_pre, n_post, pre_idx, post_idx = layout("all_to_all")
    rng = np.random.default_rng(0)
    simulate(tmp_path, n_pre, n_post, pre_idx, post_idx, rng.normal(size=len(pre_idx)),
             rng.normal(size=n_pre), rng.normal(size=n_post))
    # the index loads of the vectorised inner loops are their loop counters
    for pattern, load in (("syn_summed_variable_s_post_codeobject*.cpp", "_presynaptic_idx = _pre;"),
                          ("syn_pre_codeobject*.cpp", "_postsynaptic_idx = _post;"),
                          ("syn_run_regularly_codeobject*.cpp", "_postsynaptic_idx = _post;")):
        (path,) = (tmp_path / "code_objects").glob(pattern)
        code = path.read_text()
        assert "#pragma GCC ivdep" in code and load in code, pattern


@pytest.mark.standalone
@pytest.mark.parametrize("name", ["all_to_all", "no_self"])
def test_threads_give_the_same_results_to_the_bit(tmp_path, name):
    n_pre, n_post, pre_idx, post_idx = layout(name)
    rng = np.random.default_rng(1)
    w, x, y = rng.normal(size=len(pre_idx)), rng.normal(size=n_pre), rng.normal(size=n_post)
    x[2] = 0
    one, two, three = simulate(tmp_path, n_pre, n_post, pre_idx, post_idx, w, x, y, threads=(1, 2, 3))
    for a, b, c in zip(one, two, three):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    code = (tmp_path / "code_objects")
    (summed,) = code.glob("syn_summed_variable_s_post_codeobject*.cpp")
    assert "#pragma omp parallel" in summed.read_text()
    # the sum onto the presynaptic side is never split: two threads would add to one value
    (back,) = code.glob("back_summed_variable_s_back_pre_codeobject*.cpp")
    assert "const bool _parallel = false;" in back.read_text()


def test_zero_input_gate_and_presynaptic_writes(tmp_path):
    """What the templates are told: which presynaptic variable gates a sum, and which code
    writes only synaptic and postsynaptic variables (so it may be split over threads)."""
    brian2.device.reinit()
    brian2.set_device("cpp_standalone", directory=str(tmp_path), build_on_run=False)
    pre = brian2.NeuronGroup(3, "x : 1\nq : 1", threshold="x > 0", name="pre")
    post = brian2.NeuronGroup(3, "y : 1\ns : 1\nm : 1\nu : 1", name="post")
    syn = brian2.Synapses(pre, post, """w : 1
                                        s_post = w*x_pre*2 : 1 (summed)
                                        m_post = w + x_pre : 1 (summed)
                                        u_post = sin(q_pre)*w*x_pre : 1 (summed)""",
                          on_pre="y_post += w", name="syn")
    syn.connect()
    post_write = syn.run_regularly("w += y_post", name="syn_post_write")
    pre_write = syn.run_regularly("q_pre = w", name="syn_pre_write")
    name = lambda var: var.name  # noqa: E731
    gate = {var: codegen.zero_input_gate(syn, post.variables[var], syn.variables, name) for var in "smu"}
    assert gate == {"s": "x", "m": "", "u": "q"}  # sin(0) = 0: q gates as well as x; the first in order is kept
    assert codegen.writes_no_presynaptic(syn, runner=syn.pre)
    assert codegen.writes_no_presynaptic(syn, codeobj_name=post_write.name + "_codeobject")
    assert not codegen.writes_no_presynaptic(syn, codeobj_name=pre_write.name + "_codeobject")


@pytest.mark.standalone
def test_group_updates_are_vectorised_and_exact(tmp_path):
    """A group updating twelve variables (more than the compiler checks for overlap): its state
    update and its per-step operation run in loops declared free of dependences, and give numpy's
    values."""
    brian2.device.reinit()
    brian2.set_device("cpp_standalone", directory=str(tmp_path), build_on_run=False)
    n, names = 37, [f"x{k}" for k in range(12)]
    eqs = "\n".join(f"dx{k}/dt = (x{(k + 1) % 12} - x{k})/(({k} + 2)*ms) : 1" for k in range(12)) + "\ny : 1"
    group = brian2.NeuronGroup(n, eqs, method="euler", name="group", codeobj_class=codegen.GroupCodeObject)
    start = np.random.default_rng(1).normal(size=(12, n))
    for name, values in zip(names, start):
        setattr(group, name, values)
    group.run_regularly("y = " + " + ".join(names), when="end")
    net = brian2.Network(group)
    net.run(brian2.defaultclock.dt)
    brian2.device.build(directory=str(tmp_path), compile=True, run=True, with_output=False)

    dt = float(brian2.defaultclock.dt / brian2.ms)
    tau = np.arange(12)[:, None] + 2.0
    expected = start + dt * (np.roll(start, -1, axis=0) - start) / tau  # one forward-Euler step
    got = np.array([getattr(group, name)[:] for name in names])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(group.y[:], expected.sum(axis=0), rtol=1e-12, atol=1e-12)
    for pattern in ("group_stateupdater_codeobject*.cpp", "group_run_regularly_codeobject*.cpp"):
        (path,) = (tmp_path / "code_objects").glob(pattern)
        assert "#pragma GCC ivdep" in path.read_text(), pattern
