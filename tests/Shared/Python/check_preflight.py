"""Checks that the frames preflight's reference check took are kept, marked and judged alike in every file of a run:
frames.jsonl, journal.jsonl, the HDF5 blocks, run.nxs and documents.jsonl. Prints one JSON line: the preflight frames
as [kind, explained] pairs, in the order they were taken."""
import glob
import json
import math
import os
import sys

import h5py
import numpy as np

from runfolder import check, frames, journal, text

run_dir = sys.argv[1]
records = journal(run_dir)
stored = frames(run_dir)
preflight = [r for r in stored if r["disposition"] == "preflight"]
checks = [r for r in records if r["type"] == "reference_check"]
check(len(preflight) == len(checks), f"{len(preflight)} preflight frames in frames.jsonl, {len(checks)} reference_check records in the journal")


def same_number(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


for frame, record in zip(preflight, checks):
    verdict = frame.get("preflight")
    check(verdict is not None, f"preflight frame {frame['run_frame']} has no verdict beside it")
    check(frame["header"]["kind"] == record["kind"] and frame["header"]["frame"] == record["frame"], "frame and reference_check record differ in kind or frame")
    for key in ("explained", "conclusive", "summary"):
        check(verdict[key] == record[key], f"verdict {key}: frames.jsonl {verdict[key]!r}, journal {record[key]!r}")
    check(verdict.get("likely_cause") == record.get("likely_cause"), "verdict likely_cause differs from the journal")
    check(same_number(verdict.get("unexplained"), record.get("unexplained")), "verdict unexplained differs from the journal")
    check("observation_sequence" not in frame, f"preflight frame {frame['run_frame']} claims an observation")
    # The verdict's own record is written after its frame, before the run went on (or stopped).
    check(not any(r["type"] == "observation" and r["seq"] < record["seq"] for r in records), "an observation before preflight's check")

# HDF5 blocks: each preflight frame once, in its kind's group, with the verdict in the group's preflight subgroup.
by_run_frame = {f["run_frame"]: f for f in preflight}
seen = []
for path in sorted(glob.glob(os.path.join(run_dir, "hdf5", "block-*.h5"))):
    with h5py.File(path, "r") as block:
        for kind in ("xrd", "xas"):
            if kind not in block:
                continue
            group = block[kind]
            dispositions = [text(d) for d in group["disposition"][()]]
            run_frames = list(group["run_frame"][()])
            rows = [i for i, d in enumerate(dispositions) if d == "preflight"]
            check(("preflight" in group) == bool(rows), f"{path}/{kind}: a preflight subgroup without preflight rows, or rows without it")
            if not rows:
                continue
            sub = group["preflight"]
            check(list(sub["run_frame"][()]) == [run_frames[i] for i in rows], f"{path}/{kind}/preflight run frames")
            for j, i in enumerate(rows):
                frame = by_run_frame[run_frames[i]]
                check(group["observation_sequence"][i] == -1, f"{path}/{kind} row {i}: a preflight frame with an observation sequence")
                data = group["intensities"][i] if "intensities" in group else group[f"scan_{i:04d}/intensities"][()]
                check(np.array_equal(data, frame["intensities"]), f"{path}/{kind} row {i} differs from frames.jsonl")
                check(bool(sub["explained"][j]) == frame["preflight"]["explained"], f"{path}/{kind}/preflight explained")
                check(text(sub["summary"][j]) == frame["preflight"]["summary"], f"{path}/{kind}/preflight summary")
                check(text(sub["likely_cause"][j]) == (frame["preflight"].get("likely_cause") or ""), f"{path}/{kind}/preflight likely_cause")
                seen.append(run_frames[i])
check(sorted(seen) == sorted(by_run_frame), f"blocks hold preflight frames {sorted(seen)}, frames.jsonl {sorted(by_run_frame)}")

# run.nxs: an entry of their own, each with its verdict and its data; none among the experiment's frames.
with h5py.File(os.path.join(run_dir, "run.nxs"), "r") as f:
    if preflight:
        entry = f["preflight"]
        check(text(entry.attrs["NX_class"]) == "NXentry", "preflight is not an NXentry")
        counts = {}
        for frame in preflight:
            kind = frame["header"]["kind"]
            counts[kind] = counts.get(kind, 0) + 1
            process = entry[f"{kind}_{counts[kind]:04d}"]
            check(text(process.attrs["NX_class"]) == "NXprocess", "a preflight frame is not an NXprocess")
            check(bool(process["explained"][()]) == frame["preflight"]["explained"], f"{process.name} explained")
            check(text(process["summary"][()]) == frame["preflight"]["summary"], f"{process.name} summary")
            check(int(process["run_frame"][()]) == frame["run_frame"], f"{process.name} run_frame")
            check(np.array_equal(process["data/data"][()], frame["intensities"]), f"{process.name} data differs from frames.jsonl")
    else:
        check("preflight" not in f, "a preflight entry without preflight frames")
    if "entry/instrument/detector/frame_number" in f:
        numbers = list(f["entry/instrument/detector/frame_number"][()])
        measured_xrd = [r for r in stored if r["disposition"] != "preflight" and r["header"]["kind"] == "xrd"]
        check(len(numbers) == len(measured_xrd), "entry/data holds preflight's patterns")

# documents.jsonl: a stream per kind of their own, never the observations' streams.
with open(os.path.join(run_dir, "documents.jsonl")) as f:
    docs = [json.loads(line) for line in f if line.strip()]
descriptors = {d["uid"]: d for name, d in docs if name == "descriptor"}
events = [d for name, d in docs if name == "event" and descriptors[d["descriptor"]]["name"].startswith("preflight_")]
check([e["data"]["run_frame"] for e in events] == [f["run_frame"] for f in sorted(preflight, key=lambda f: (f["header"]["kind"] != "xrd", f["run_frame"]))],
      "preflight events do not match frames.jsonl's preflight frames")
resources = {d["uid"]: d for name, d in docs if name == "stream_resource"}
reached = 0
for name, datum in docs:
    if name != "stream_datum" or not descriptors[datum["descriptor"]]["name"].startswith("preflight_"):
        continue
    resource = resources[datum["stream_resource"]]
    with h5py.File(os.path.join(run_dir, resource["parameters"]["path"]), "r") as block:
        dataset = block[resource["parameters"]["dataset"]]
        for offset, seq in enumerate(range(datum["seq_nums"]["start"], datum["seq_nums"]["stop"])):
            event = next(e for e in events if e["descriptor"] == datum["descriptor"] and e["seq_num"] == seq)
            row = dataset[datum["indices"]["start"] + offset] if resource["parameters"]["frame_axis"] else dataset[()]
            check(np.array_equal(row, by_run_frame[event["data"]["run_frame"]]["intensities"]), f"datum row for preflight frame {event['data']['run_frame']} differs")
            check(event["data"]["explained"] == by_run_frame[event["data"]["run_frame"]]["preflight"]["explained"], "event explained")
            reached += 1
check(reached == len(preflight), f"{reached} of {len(preflight)} preflight frames reached through stream datums")
print(json.dumps([[f["header"]["kind"], f["preflight"]["explained"]] for f in preflight]))
