"""Checks documents.jsonl against the event-model schemas' required keys and the run's journal, frames and HDF5 blocks."""
import json
import os
import sys

import h5py
import numpy as np

from runfolder import check, frames, journal

run_dir = sys.argv[1]
# The "required" lists of bluesky/event-model's JSON schemas (run_start, event_descriptor, event, stream_resource,
# stream_datum, run_stop) and of a descriptor's DataKey.
REQUIRED = {
    "start": {"uid", "time"},
    "descriptor": {"uid", "time", "run_start", "data_keys"},
    "event": {"uid", "time", "descriptor", "seq_num", "data", "timestamps"},
    "stream_resource": {"uid", "run_start", "data_key", "mimetype", "uri", "parameters"},
    "stream_datum": {"uid", "stream_resource", "descriptor", "indices", "seq_nums"},
    "stop": {"uid", "time", "run_start", "exit_status"},
}
DATA_KEY = {"dtype", "shape", "source"}

with open(os.path.join(run_dir, "documents.jsonl")) as f:
    docs = [json.loads(line) for line in f if line.strip()]
names = [name for name, _ in docs]
check(names[0] == "start" and names[-1] == "stop" and names.count("start") == 1 and names.count("stop") == 1, "one start first, one stop last")
uids = [doc["uid"] for _, doc in docs]
check(len(uids) == len(set(uids)), "uids repeat")
start = docs[0][1]
descriptors, resources, datums = {}, {}, []
for name, doc in docs:
    check(name in REQUIRED, f"unknown document type {name}")
    missing = REQUIRED[name] - doc.keys()
    check(not missing, f"{name} {doc.get('uid')} lacks {sorted(missing)}")
    if name in ("descriptor", "stream_resource", "stop"):
        check(doc["run_start"] == start["uid"], f"{name} points at another start")
    if name == "descriptor":
        for key, spec in doc["data_keys"].items():
            check(not (DATA_KEY - spec.keys()), f"data key {key} lacks {sorted(DATA_KEY - spec.keys())}")
            check(spec["dtype"] in ("string", "number", "array", "boolean", "integer"), f"data key {key} dtype {spec['dtype']}")
        descriptors[doc["uid"]] = doc
    elif name == "event":
        descriptor = descriptors.get(doc["descriptor"])
        check(descriptor is not None, "an event before its descriptor")
        internal = {k for k, v in descriptor["data_keys"].items() if "external" not in v}
        check(set(doc["data"]) == internal, f"event keys {sorted(doc['data'])} are not the descriptor's {sorted(internal)}")
        check(set(doc["timestamps"]) == set(doc["data"]), "timestamps do not match data")
    elif name == "stream_resource":
        resources[doc["uid"]] = doc
    elif name == "stream_datum":
        check(doc["stream_resource"] in resources, "a datum before its resource")
        check(doc["descriptor"] in descriptors, "a datum before its descriptor")
        for r in ("indices", "seq_nums"):
            check({"start", "stop"} <= doc[r].keys() and doc[r]["stop"] > doc[r]["start"], f"datum {r}")
        datums.append(doc)

records = journal(run_dir)
events = [doc for name, doc in docs if name == "event"]
by_stream = {}
for e in events:
    by_stream.setdefault(descriptors[e["descriptor"]]["name"], []).append(e)
observations = [r for r in records if r["type"] == "observation"]
check(len(by_stream.get("xrd", [])) + len(by_stream.get("xas", [])) == len(observations), "one event per observation")
check(len(by_stream["cell"]) == sum(r["type"] == "cell" for r in records), "one event per cell sample")
check(len(by_stream["decisions"]) == sum(r["type"] == "decision" for r in records), "one event per decision")
check([e["data"]["voltage_v"] for e in by_stream["cell"]] == [r["voltage_v"] for r in records if r["type"] == "cell"], "cell voltages")
if any(r.get("temperature_c") is not None for r in records if r["type"] == "cell"):
    check([e["data"]["temperature_c"] for e in by_stream["cell"]] == [r.get("temperature_c") for r in records if r["type"] == "cell"], "cell temperatures")
stop = docs[-1][1]
end = [r for r in records if r["type"] == "run_end"]
check(stop["exit_status"] == (end[-1]["exit_status"] if end else "fail"), f"stop exit_status {stop['exit_status']}")
check(stop["num_events"] == {k: len(v) for k, v in by_stream.items()}, "num_events")

# Every frame behind an observation is reached through a stream datum, and the block holds what frames.jsonl holds.
stored = {r["observation_sequence"]: r for r in frames(run_dir) if "observation_sequence" in r}
covered = 0
# Preflight's streams (preflight_xrd, preflight_xas) point into the blocks too; check_preflight.py reads them.
for datum in (d for d in datums if descriptors[d["descriptor"]]["name"] in ("xrd", "xas")):
    resource = resources[datum["stream_resource"]]
    events_here = [e for e in events if e["descriptor"] == datum["descriptor"] and datum["seq_nums"]["start"] <= e["seq_num"] < datum["seq_nums"]["stop"]]
    check(len(events_here) == datum["seq_nums"]["stop"] - datum["seq_nums"]["start"], "datum seq_nums without events")
    with h5py.File(os.path.join(run_dir, resource["parameters"]["path"]), "r") as block:
        dataset = block[resource["parameters"]["dataset"]]
        for offset, e in enumerate(events_here):
            row = dataset[datum["indices"]["start"] + offset] if resource["parameters"]["frame_axis"] else dataset[()]
            check(np.array_equal(row, stored[e["data"]["sequence"]]["intensities"]), f"datum row for observation {e['data']['sequence']} differs")
            covered += 1
check(covered == len(observations), f"{covered} of {len(observations)} observations reached through stream datums")
check(resource["uri"].startswith("file:///"), "uri is a file URI")
print("ok")
