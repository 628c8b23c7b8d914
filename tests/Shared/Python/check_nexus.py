"""Checks run.nxs against the NeXus rules a viewer relies on and against the run's journal and frames."""
import sys

import h5py
import numpy as np

from runfolder import check, frames, journal, text

run_dir = sys.argv[1]
f = h5py.File(f"{run_dir}/run.nxs", "r")


def nx_class(obj):
    return text(obj.attrs.get("NX_class", b""))


def walk_groups(group, path="/"):
    yield path, group
    for name, item in group.items():
        if isinstance(item, h5py.Group):
            yield from walk_groups(item, f"{path}{name}/")


for path, group in walk_groups(f):
    check(nx_class(group).startswith("NX"), f"{path} has no NX_class")


def resolve_default(group, path):
    """Follows default attributes down to an NXdata and checks its signal and axes."""
    while nx_class(group) != "NXdata":
        check("default" in group.attrs, f"{path} has no default")
        name = text(group.attrs["default"])
        check(name in group, f"{path}@default names {name}, which is not there")
        group, path = group[name], f"{path}{name}/"
    signal = group[text(group.attrs["signal"])]
    axes = [text(a) for a in np.atleast_1d(group.attrs["axes"])]
    check(len(axes) == signal.ndim, f"{path}: {len(axes)} axes for a {signal.ndim}-d signal")
    for i, axis in enumerate(axes):
        if axis == ".":
            continue
        check(axis in group, f"{path}: axis {axis} missing")
        check(group[axis].shape[0] == signal.shape[i], f"{path}: axis {axis} has {group[axis].shape[0]} points, signal {signal.shape[i]}")
        check("units" in group[axis].attrs, f"{path}{axis} has no units")
        check(int(group.attrs[f"{axis}_indices"]) == i, f"{path}{axis}_indices is not {i}")
    return group


def units(dataset):
    check("units" in dataset.attrs, f"{dataset.name} has no units")
    return text(dataset.attrs["units"])


resolve_default(f, "/")
records = journal(run_dir)
stored = frames(run_dir)
entry = f["entry"]
check(text(entry["definition"][()]) == "NXmonopd", "entry definition is not NXmonopd")
for field in ("title", "start_time", "end_time"):
    check(field in entry, f"entry has no {field}")
check(text(entry["start_time"][()]).startswith(records[0]["t"][:19]), "start_time is not the journal's first record")

instrument = entry["instrument"]
check(nx_class(instrument["source"]) == "NXsource", "no NXsource")
check(units(instrument["monochromator/wavelength"]) == "angstrom", "wavelength units")
check(units(instrument["monochromator/energy"]) == "keV", "energy units")
wavelength = float(instrument["monochromator/wavelength"][()])
check(abs(float(instrument["monochromator/energy"][()]) - 12.39842 / wavelength) < 1e-3, "energy and wavelength disagree")

# Preflight's frames are not frames of the experiment: they have an entry of their own (check_preflight.py).
measured = [r for r in stored if r["disposition"] != "preflight"]
xrd = [r for r in measured if r["header"]["kind"] == "xrd"]
data = entry["data"]
check(units(data["polar_angle"]) == "degree", "polar angle units")
header = xrd[0]["header"]
expected_axis = header["x_start"] + header["x_step"] * np.arange(header["n"])
check(np.allclose(data["polar_angle"][()], expected_axis), "polar angle is not the frames' axis")
matrix = data["data"][()]
check(matrix.shape == (len(xrd), header["n"]), f"diffraction matrix {matrix.shape}, frames.jsonl has {len(xrd)} × {header['n']}")
for i, r in enumerate(xrd):
    check(np.array_equal(matrix[i], r["intensities"]), f"row {i} differs from frames.jsonl")
check(units(entry["instrument/detector/data"]) == "counts", "detector data units")

cells = [r for r in records if r["type"] == "cell"]
sample = entry["sample"]
check(text(sample["chemistry"][()]) != "", "sample chemistry")
check(units(sample["nominal_capacity"]) == "A*h", "capacity units")
for log, key, unit in (("cell_voltage", "voltage_v", "V"), ("cell_current", "current_a", "A"), ("state_of_charge", "state_of_charge", "")):
    group = sample[log]
    check(nx_class(group) == "NXlog", f"{log} is not an NXlog")
    check(units(group["value"]) == unit and units(group["time"]) == "s", f"{log} units")
    check(np.allclose(group["value"][()], [c[key] for c in cells]), f"{log} differs from the journal")
    check(len(group["time"][()]) == len(cells), f"{log} time has another length")
warm = [c for c in cells if c.get("temperature_c") is not None]
if warm:
    group = sample["temperature"]
    check(nx_class(group) == "NXlog" and units(group["value"]) == "degC", "temperature is not an NXlog in degC")
    check(np.allclose(group["value"][()], [c["temperature_c"] for c in warm]), "temperature differs from the journal")
else:
    check("temperature" not in sample, "a temperature log without a temperature in the journal")
resolve_default(entry, "/entry/") and resolve_default(entry["cell"], "/entry/cell/")

observations = [r for r in records if r["type"] == "observation"]
table = entry["observations"]
check(list(table["sequence"][()]) == [o["sequence"] for o in observations], "observation sequences")
check(np.allclose(table["phase_fraction"][()], [o["phase_fraction"] for o in observations]), "phase fractions")
check([text(k) for k in table["kind"][()]] == [o["kind"] for o in observations], "observation kinds")
check(units(table["x"]) == "mm" and units(table["edge_energy"]) == "eV" and units(table["c_rate"]) == "1/h", "observation units")

decisions = [r for r in records if r["type"] == "decision"]
table = entry["decisions"]
check([text(k) for k in table["kind"][()]] == [d["kind"] for d in decisions], "decision kinds")
check([text(k) for k in table["reason"][()]] == [d["reason"] for d in decisions], "decision reasons")
check(np.allclose(table["score"][()], [d["score"] for d in decisions]), "decision scores")
check(list(table["model_version"][()]) == [d["model_version"] for d in decisions], "model versions")

xas = [r for r in measured if r["header"]["kind"] == "xas"]
entries = sorted(k for k in f if k.startswith("xas_"))
check(len(entries) == len(xas), f"{len(entries)} XAS entries for {len(xas)} scans")
for name, r in zip(entries, xas):
    e = f[name]
    check(text(e["definition"][()]) == "NXxas", f"{name} definition")
    plotted = resolve_default(e, f"/{name}/")
    check(units(plotted["energy"]) == "eV", f"{name} energy units")
    check(np.allclose(plotted["energy"][()], r["x"]), f"{name} energies differ from frames.jsonl")
    check(np.allclose(plotted["absorbed_beam"][()], r["intensities"]), f"{name} spectrum differs")
    check("data" in e["instrument/incoming_beam"], f"{name} has no incoming beam")
print("ok")
