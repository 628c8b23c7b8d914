"""Reads a run folder's record (journal.jsonl, frames.jsonl) the way a user's script would, without our code."""
import base64
import json
import os

import numpy as np


def journal(run_dir):
    with open(os.path.join(run_dir, "journal.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def frames(run_dir):
    out = []
    with open(os.path.join(run_dir, "frames.jsonl")) as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            record["intensities"] = np.frombuffer(base64.b64decode(record["intensities_f32le"]), dtype="<f4")
            if record.get("x_f32le"):
                record["x"] = np.frombuffer(base64.b64decode(record["x_f32le"]), dtype="<f4")
            out.append(record)
    return out


def text(value):
    """An HDF5 string (scalar or array element) as str, however h5py hands it back."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return value.decode() if isinstance(value, bytes) else str(value)


def fail(message):
    raise SystemExit(message)


def check(condition, message):
    if not condition:
        fail(message)
