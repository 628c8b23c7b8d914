"""Reads cycler.bdf.csv as a battery tool would (csv, column names 'Quantity / unit') and checks it against the journal."""
import csv
import math
import sys

from runfolder import check, journal

run_dir = sys.argv[1]
with open(f"{run_dir}/cycler.bdf.csv", newline="") as f:
    rows = list(csv.DictReader(f))
for column in ("Test Time / s", "Voltage / V", "Current / A", "Cycle Count / 1", "Step Count / 1", "State of Charge / 1", "Temperature T1 / degC"):
    check(column in rows[0], f"no column {column}")
cells = [r for r in journal(run_dir) if r["type"] == "cell"]
check(len(rows) == len(cells), f"{len(rows)} rows for {len(cells)} cell samples")
for row, cell in zip(rows, cells):
    check(math.isclose(float(row["Voltage / V"]), cell["voltage_v"]), "voltage differs from the journal")
    check(math.isclose(float(row["Current / A"]), cell["current_a"]), "current differs from the journal")
    check(math.isclose(float(row["State of Charge / 1"]), cell["state_of_charge"]), "state of charge differs")
    check(int(row["Cycle Count / 1"]) == cell["cycle"], "cycle differs")
    temperature = row["Temperature T1 / degC"]
    if cell.get("temperature_c") is None:
        check(temperature == "", "a temperature where the journal has none")
    else:
        check(math.isclose(float(temperature), cell["temperature_c"]), "temperature differs from the journal")
times = [float(r["Test Time / s"]) for r in rows]
check(times[0] >= 0 and all(b >= a for a, b in zip(times, times[1:])), "test time does not increase")
steps = [int(r["Step Count / 1"]) for r in rows]
check(steps[0] == 1 and all(b - a in (0, 1) for a, b in zip(steps, steps[1:])), "step count does not count steps")
charged = [float(r["Charging Capacity / Ah"]) for r in rows]
check(all(b >= a for a, b in zip(charged, charged[1:])), "charging capacity decreases")
print("ok")
