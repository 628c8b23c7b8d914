"""Reads what the run's files say the map's values are, as a user's script would: per observation kind, the target and its
unit in journal.jsonl, in run.nxs (entry/observations: target, target_unit, phase_fraction@units) and in documents.jsonl
(the observation streams' phase_fraction units). Checks the three agree; prints them as one JSON object."""
import json
import os
import sys

import h5py

from runfolder import check, journal, text

run_dir = sys.argv[1]
observations = [r for r in journal(run_dir) if r["type"] == "observation"]
by_kind = {}
for o in observations:
    by_kind.setdefault(o["kind"], set()).add((o.get("target"), o.get("target_unit")))

with h5py.File(os.path.join(run_dir, "run.nxs"), "r") as f:
    table = f["entry/observations"]
    rows = list(zip([text(k) for k in table["kind"][()]], [text(t) for t in table["target"][()]], [text(u) for u in table["target_unit"][()]]))
    column_unit = text(table["phase_fraction"].attrs["units"])
for (kind, target, unit), o in zip(rows, observations):
    check((kind, target, unit) == (o["kind"], o.get("target") or "", o.get("target_unit") or ""), f"run.nxs row of observation {o['sequence']} differs from the journal")

with open(os.path.join(run_dir, "documents.jsonl")) as f:
    docs = [json.loads(line) for line in f if line.strip()]
streams = {}
for name, doc in docs:
    if name == "descriptor" and doc["name"] in ("xrd", "xas"):
        streams.setdefault(doc["name"], set()).add(doc["data_keys"]["phase_fraction"]["units"])
for kind, units in streams.items():
    expected = {u or "" for _, u in by_kind.get(kind, set())}
    check(units == expected or (len(expected) > 1 and units == {""}), f"documents.jsonl {kind} units {units}, journal {expected}")

print(json.dumps({
    "journal": {k: sorted([t or "", u or ""] for t, u in v) for k, v in sorted(by_kind.items())},
    "nexus_column_unit": column_unit,
    "documents": {k: sorted(v) for k, v in sorted(streams.items())},
}, sort_keys=True))
