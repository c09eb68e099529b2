"""NWB export of membrane traces (the traces dict of :mod:`corinfo_sim.traces`).

The file is written so that nwbinspector (the NWB community's checker) reports no CRITICAL
and no BEST_PRACTICE_VIOLATION finding. Where things go:

============================================  ====================================================
NWB location                                  content
============================================  ====================================================
``acquisition/{var}_L{k}``                    one TimeSeries per recorded layer k and variable
                                              (``v_soma``, ``v_basal``, ``v_apical``, ``rate``,
                                              ``z``, ``teacher``; the conductance model's
                                              conductances ``g_*`` and currents ``I_*``): data
                                              (steps, neurons), sampled regularly (``rate`` =
                                              1/dt, ``starting_time``); potentials in volts,
                                              conductances in siemens, currents in amperes
                                              (``conversion`` from the stored mV, nS, pA), the
                                              others dimensionless
``acquisition/beta``, ``acquisition/sample``  nudging strength and sample index at each step
``units``                                     spiking model: one row per recorded neuron, with
                                              ``spike_times`` (s), ``layer``, ``neuron``;
                                              ``resolution`` = dt
``intervals/trials``                          one row per sample shown: ``start_time``,
                                              ``stop_time``, ``sample`` (index in the split),
                                              ``label`` (class) and ``label_name`` when known
``intervals/epochs``                          the free and nudged phase of each sample, tagged
                                              ``free``/``nudged`` and ``sample {i}``
``stimulus_template/input_images``            with ``images``: an Images collection, one
                                              GrayscaleImage/RGBImage per distinct sample shown
                                              (``sample_{i}``), in ``order_of_images``
``stimulus/presented_images``                 with ``images``: IndexSeries pointing into
                                              ``input_images``, one entry per sample onset
``general/subject``                           the simulated network (see :data:`SUBJECT`)
============================================  ====================================================
"""
import datetime
import json
import uuid

import numpy as np

#: Unit of each variable when a traces dict carries no ``units`` entry (as in :mod:`.traces`).
UNITS = {"v_soma": "mV", "v_basal": "mV", "v_apical": "mV", "rate": "1", "z": "1", "teacher": "mV"}

VARIABLES = {
    "v_soma": "somatic membrane potential",
    "v_basal": "basal dendritic potential (W_ff,k r_(k-1) V0)",
    "v_apical": "apical dendritic potential",
    "rate": "rate r = clip(v_soma / V0, 0, 1) of the pyramidal neurons",
    "z": "activity of the neurons' interneurons (z = B r)",
    "teacher": "teacher input -beta (r - y) V0 at the output layer's apical dendrite",
    "g_ff_e": "excitatory feedforward synaptic conductance on the basal dendrite",
    "g_ff_i": "inhibitory feedforward synaptic conductance on the basal dendrite",
    "g_lat_e": "excitatory conductance of the interneuron's synapse on the apical dendrite",
    "g_lat_i": "inhibitory conductance of the interneuron's synapse on the apical dendrite",
    "I_ff": "feedforward synaptic current into the basal dendrite",
    "I_fb": "feedback synaptic current into the apical dendrite",
    "I_lat": "current of the interneuron's synapse into the apical dendrite",
}
#: NWB unit and conversion to it of each stored unit (potentials in mV, conductances in nS,
#: currents in pA; anything else dimensionless).
SI_UNITS = {"mV": ("volts", 1e-3), "nS": ("siemens", 1e-9), "pA": ("amperes", 1e-12)}

#: The Subject written when ``metadata`` gives none (its fields can be overridden one by one).
#: A simulated network has no species, sex or age; nwbinspector nevertheless requires them
#: (species: CRITICAL/BEST_PRACTICE_VIOLATION checks; sex, age: CRITICAL checks). They are set to
#: the honest values the checks accept: NCBI Taxonomy's node 32630 "synthetic construct" (the
#: taxonomy's entry for artificial, non-organism entities), sex "O" (other: not applicable), and
#: the open age range "P0D/" (0 days or older, i.e. no upper bound claimed).
SUBJECT = dict(
    subject_id="corinfomax-network",
    description=("A simulated CorInfoMax network (Brian2 simulator corinfo_sim), not an animal: "
                 "species is NCBI Taxonomy 'synthetic construct' (32630), sex 'O' (other: not applicable), "
                 "age 'P0D/' (open range, age not applicable)."),
    species="http://purl.obolibrary.org/obo/NCBITaxon_32630",
    sex="O",
    age="P0D/",
)

EXPERIMENT = ("Membrane traces of a simulated CorInfoMax network (correlative information maximization, "
              "multi-compartment pyramidal neurons with somatic, basal and apical compartments and lateral "
              "interneurons) simulated with Brian2 by corinfo_sim: every simulation step of the chosen input "
              "samples, each presented for a free phase and a nudged phase (teacher signal of strength beta at "
              "the output layer).")

KEYWORDS = ["CorInfoMax", "computational model", "simulation", "Brian2", "multi-compartment neuron",
            "membrane potential"]


def _image_shape(n_features, image_shape):
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if int(np.prod(shape)) != n_features:
            raise ValueError(f"image_shape {shape} does not hold {n_features} features")
        return shape
    side = int(round(np.sqrt(n_features)))
    if side * side == n_features:
        return side, side
    side = int(round(np.sqrt(n_features / 3)))
    if 3 * side * side == n_features:
        return 3, side, side
    raise ValueError(f"cannot infer the image shape of {n_features} features: pass image_shape")


def _image(name, pixels, description):
    """A Grayscale/RGB/RGBAImage of ``pixels``: (h, w), (c, h, w) with c in 1, 3, 4, or else (h, w, c)."""
    from pynwb.image import GrayscaleImage, RGBAImage, RGBImage

    if pixels.ndim == 3 and pixels.shape[0] in (1, 3, 4):
        pixels = np.moveaxis(pixels, 0, -1)  # channels first (the data sets' layout) → last (NWB's)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim == 2:
        return GrayscaleImage(name=name, data=pixels, description=description)
    if pixels.ndim == 3 and pixels.shape[-1] == 3:
        return RGBImage(name=name, data=pixels, description=description)
    if pixels.ndim == 3 and pixels.shape[-1] == 4:
        return RGBAImage(name=name, data=pixels, description=description)
    raise ValueError(f"image shape {pixels.shape} is neither (h, w) nor (h, w, 1/3/4) nor (1/3/4, h, w)")


def _onsets(sample, phase):
    """Step indices at which a sample starts: the sample changes, or the phase drops back to free."""
    n = len(sample)
    if n == 0:
        return np.zeros(0, dtype=int)
    new = np.ones(n, dtype=bool)
    new[1:] = (sample[1:] != sample[:-1]) | (phase[1:] < phase[:-1])
    return np.flatnonzero(new)


def _time_args(times, dt):
    """``rate``/``starting_time`` when ``times`` are regular (step dt), else ``timestamps``."""
    if len(times) > 1 and np.allclose(np.diff(times), dt, rtol=1e-6, atol=1e-12):
        return dict(starting_time=float(times[0]), rate=1.0 / dt)
    return dict(timestamps=np.asarray(times, dtype=float))


def save_nwb(path, traces, images=None, image_shape=None, class_names=None,
             description="corinfo_sim membrane traces", identifier=None, metadata=None):
    """Write traces to an NWB file (pynwb); layout in this module's docstring.

    Parameters
    ----------
    path : str or Path
        The file to write (``.nwb``).
    traces : mapping
        The traces layout of :mod:`corinfo_sim.traces` (a dict, or an ``np.load`` of a traces file).
        ``label`` (class of the sample shown at each step) is optional.
    images : array (n_samples, n_features), optional
        The split's image table: ``images[i]`` is the input of sample ``i``. The rows of the
        samples shown are stored as images (stimulus template) with an IndexSeries of their onsets.
    image_shape : tuple, optional
        Shape of one image, e.g. (8, 8), (28, 28) or (3, 32, 32) (channels first, as the data sets);
        inferred for square gray (n = s²) and square RGB (n = 3 s²) images when not given.
    class_names : sequence of str, optional
        Name of each class label: adds a ``label_name`` column to the trials.
    description : str
        The session description.
    identifier : str, optional
        The file's identifier (default: a new UUID).
    metadata : dict, optional
        Further NWBFile arguments (``experiment_description``, ``institution``, ``lab``,
        ``experimenter``, ``keywords``, ``session_id``, ``session_start_time``, …), and ``subject``:
        a dict of Subject fields that override :data:`SUBJECT` one by one.
    """
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.base import ImageReferences, Images
    from pynwb.epoch import TimeIntervals
    from pynwb.file import Subject
    from pynwb.image import IndexSeries
    from pynwb.misc import Units

    metadata = dict(metadata or {})
    subject = Subject(**{**SUBJECT, **dict(metadata.pop("subject", None) or {})})
    units = json.loads(str(traces["units"])) if "units" in traces else {}

    t_ms = np.asarray(traces["t"], dtype=float)
    t, steps = t_ms * 1e-3, len(t_ms)  # s
    # the simulation time step (1 ms if a single step leaves it unknown), rounded on the ms grid
    dt = float(np.round(np.median(np.diff(t_ms)), 9)) * 1e-3 if steps > 1 else 1e-3
    phase = np.asarray(traces["phase"]).astype(int)
    sample = np.asarray(traces["sample"]).astype(np.int64)
    label = np.asarray(traces["label"]).astype(np.int64) if "label" in traces else None
    onsets = _onsets(sample, phase)
    ends = np.append(onsets[1:], steps)

    spiking = sorted(int(key[len("spikes_t_L"):]) for key in traces if key.startswith("spikes_t_L"))
    kwargs = dict(session_description=description, identifier=identifier or str(uuid.uuid4()),
                  session_start_time=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
                  experiment_description=EXPERIMENT, keywords=list(KEYWORDS), subject=subject,
                  epochs=TimeIntervals(name="epochs", description=(
                      "phases of each sample: 'free' (no teacher, beta = 0) and 'nudged' (teacher at the output "
                      "layer); tags name the phase and the sample")),
                  trials=TimeIntervals(name="trials", description=(
                      "one row per input sample shown to the network, in the order shown")))
    if spiking:
        kwargs["units"] = Units(name="units", resolution=dt, description=(
            "spike times of the recorded pyramidal neurons of the spiking model (one row per neuron; "
            "times in s on the traces' time axis; resolution = simulation time step)"))
    kwargs.update(metadata)
    nwb = NWBFile(**kwargs)
    time = _time_args(t, dt)
    grid = (f"state at the start of each simulation step (dt = {dt * 1e3:g} ms), time 0 at the first "
            "sample's onset")

    for key in sorted(traces):
        if "_L" not in key or key.startswith(("neurons_", "spikes_")):
            continue
        data = np.asarray(traces[key])
        variable, layer = key.rsplit("_L", 1)
        if data.ndim == 0 or data.shape[0] != steps or not layer.isdigit():
            continue
        unit = units.get(key, UNITS.get(variable, ""))
        si_unit, conversion = SI_UNITS.get(unit, ("dimensionless", 1.0))
        neurons = np.asarray(traces[f"neurons_L{layer}"]).tolist() if f"neurons_L{layer}" in traces else None
        what = VARIABLES.get(variable, variable)
        cols = f"; columns: neurons {neurons} of layer {layer}" if neurons is not None else ""
        nwb.add_acquisition(TimeSeries(
            name=key, data=H5DataIO(data, compression="gzip"), unit=si_unit, conversion=conversion, **time,
            description=f"{what}, layer {layer}{cols}; {grid}" + (f"; stored in {unit}" if unit in SI_UNITS else "")))
    nwb.add_acquisition(TimeSeries(name="beta", data=np.asarray(traces["beta"], dtype=float), unit="dimensionless",
                                   description=f"nudging strength beta of the teacher signal; {grid}", **time))
    nwb.add_acquisition(TimeSeries(name="sample", data=sample, unit="dimensionless", **time,
                                   description=f"index (in the data split) of the input sample shown; {grid}"))

    if spiking:  # spike times of the recorded neurons: NWB's units table
        nwb.add_unit_column(name="layer", description="layer k of the pyramidal neuron")
        nwb.add_unit_column(name="neuron", description="index of the neuron in its layer")
        for k in spiking:
            times, index = np.asarray(traces[f"spikes_t_L{k}"]) * 1e-3, np.asarray(traces[f"spikes_i_L{k}"])
            for neuron in np.asarray(traces[f"neurons_L{k}"]):
                nwb.add_unit(spike_times=np.sort(times[index == neuron]), layer=k, neuron=int(neuron))

    def stop(n):  # end of step n-1
        return float(t[n - 1] + dt)

    starts, start = set(onsets.tolist()), 0
    for n in range(1, steps + 1):
        if n == steps or phase[n] != phase[start] or n in starts:
            nwb.add_epoch(start_time=float(t[start]), stop_time=stop(n),
                          tags=["nudged" if phase[start] else "free", f"sample {int(sample[start])}"])
            start = n

    nwb.add_trial_column(name="sample", description="index of the input sample in the data split")
    if label is not None:
        nwb.add_trial_column(name="label", description="class label of the sample")
        if class_names is not None:
            nwb.add_trial_column(name="label_name", description="name of the sample's class")
    for a, b in zip(onsets, ends):
        row = dict(start_time=float(t[a]), stop_time=stop(b), sample=int(sample[a]))
        if label is not None:
            row["label"] = int(label[a])
            if class_names is not None:
                row["label_name"] = str(class_names[int(label[a])])
        nwb.add_trial(**row)

    if images is not None:
        table = np.asarray(images)
        flat = table.reshape(len(table), -1)
        shape = _image_shape(flat.shape[1], image_shape if image_shape is not None or table.ndim == 2
                             else table.shape[1:])
        shown = list(dict.fromkeys(int(sample[a]) for a in onsets))  # distinct, in order of first showing
        pictures = []
        for i in shown:
            first = onsets[int(np.flatnonzero(sample[onsets] == i)[0])]
            about = f"input of sample {i} of the data split, as presented to the input layer (shape {shape})"
            if label is not None:
                c = int(label[first])
                about += f"; class label {c}" + (f" ({class_names[c]})" if class_names is not None else "")
            pictures.append(_image(f"sample_{i}", flat[i].reshape(shape), about))
        nwb.add_stimulus_template(Images(
            name="input_images", images=pictures,
            order_of_images=ImageReferences(name="order_of_images", data=pictures),
            description="the input images of the samples shown, one per distinct sample, in order of first showing"))
        index = {i: n for n, i in enumerate(shown)}
        onset_t = t[onsets]
        nwb.add_stimulus(IndexSeries(
            name="presented_images", data=np.array([index[int(sample[a])] for a in onsets], dtype=np.uint32),
            unit="N/A", indexed_images=nwb.stimulus_template["input_images"],
            description=("index into stimulus_template/input_images (order_of_images) of the image presented at "
                         "each sample onset; it stays on for the sample's free and nudged phases"),
            **(_time_args(onset_t, onset_t[1] - onset_t[0]) if len(onset_t) > 1
               else dict(timestamps=onset_t))))

    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
