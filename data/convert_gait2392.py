#!/usr/bin/env python3
"""Convert the OpenSim gait2392 tables in ../shared/reference/models into hipdrop's data files.

Source: OpenSim model gait2392_simbody (Delp et al. 1990 muscle set, Anderson & Pandy 1999
parameters), CC BY 3.0, as tabulated in shared/reference/models/*_gait2392.csv.
Only right-side muscles are written; hipdrop mirrors them (z -> -z) for the left side,
exactly as gait2392 itself does. Run from the repository root:

    python3 data/convert_gait2392.py ../shared/reference/models
"""
import csv, re, sys, os

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/models"
out = os.path.dirname(os.path.abspath(__file__))
HEADER = ("# Source: OpenSim gait2392 (Delp et al. 1990, IEEE TBME 37:757; Anderson & Pandy 1999),"
          " CC BY 3.0; converted by data/convert_gait2392.py from shared/reference/models.\n")

with open(f"{src}/muscles_gait2392.csv") as f:
    rows = [r for r in csv.DictReader(f) if r["muscle"].endswith("_r")]
with open(f"{out}/gait2392_muscles.csv", "w") as f:
    f.write(HEADER)
    f.write("# Right side only; the left side is the mirror image (z -> -z). Units in the column names.\n")
    f.write("muscle,max_isometric_force_n,optimal_fiber_length_m,tendon_slack_length_m,"
            "pennation_at_optimal_rad,max_contraction_velocity_lopt_per_s\n")
    for r in rows:
        name = r["muscle"][:-2]
        f.write(f'{name},{float(r["max_isometric_force_N"]):g},{float(r["optimal_fiber_length_m"]):g},'
                f'{float(r["tendon_slack_length_m"]):g},{float(r["pennation_at_optimal_rad"]):g},'
                f'{float(r["max_contraction_velocity_Lopt_per_s"] or 10):g}\n')

def spline(s):
    m = re.match(r"\s*(\w+):SimmSpline\(x=\[([^\]]*)\];y=\[([^\]]*)\]\)", s)
    coord, xs, ys = m.group(1), m.group(2).split(), m.group(3).split()
    return coord[:-2], " ".join(xs), " ".join(ys)

with open(f"{src}/muscle_pathpoints_gait2392.csv") as f:
    pts = [r for r in csv.DictReader(f) if r["muscle"].endswith("_r")]
with open(f"{out}/gait2392_path_points.csv", "w") as f:
    f.write(HEADER)
    f.write("# kind: fixed | conditional (active while coordinate in [cond_min_rad, cond_max_rad]) |"
            " moving (x, y, z are natural cubic splines of the coordinate: 'knots_x;values')\n")
    f.write("# Coordinates use OpenSim's signs: knee_angle is negative in flexion.\n")
    f.write("muscle,index,body,kind,x_m,y_m,z_m,coordinate,cond_min_rad,cond_max_rad\n")
    for r in pts:
        body = r["body"][:-2] if r["body"].endswith("_r") else r["body"]
        kind = {"PathPoint": "fixed", "ConditionalPathPoint": "conditional",
                "MovingPathPoint": "moving"}[r["point_type"]]
        coord, lo, hi = "", "", ""
        if kind == "moving":
            xyz = []
            for key in ("moving_x", "moving_y", "moving_z"):
                c, xs, ys = spline(r[key])
                coord = c
                xyz.append(f"{xs};{ys}")
            x, y, z = xyz
        else:
            x, y, z = r["location_xyz_m"].split()
            x, y, z = (f"{float(v):g}" for v in (x, y, z))
        if kind == "conditional":
            m = re.match(r"(\w+) in \[(\S+) (\S+)\] rad", r["condition"])
            coord, lo, hi = m.group(1)[:-2], f"{float(m.group(2)):g}", f"{float(m.group(3)):g}"
        f.write(f'{r["muscle"][:-2]},{r["index"]},{body},{kind},{x},{y},{z},{coord},{lo},{hi}\n')

bodies = []
with open(f"{src}/bodies_gait2392.csv") as f:
    lines = f.read().split("\n\n")[0].splitlines()[1:]
with open(f"{out}/gait2392_bodies.csv", "w") as f:
    f.write(HEADER)
    f.write("# Segment masses (kg), centres of mass in the body frame (m), inertia about the COM in body axes"
            " (kg m^2). Generic subject: 75.16 kg, 1.80 m. Right side only; calcn and toes are merged into 'foot'"
            " by hipdrop.\n")
    f.write("body,mass_kg,com_x_m,com_y_m,com_z_m,ixx_kg_m2,iyy_kg_m2,izz_kg_m2\n")
    for r in csv.DictReader(lines):
        b = r["body"]
        if b.endswith("_l"):
            continue
        name = b[:-2] if b.endswith("_r") else b
        cx, cy, cz = (float(v) for v in r["com_xyz_m"].split())
        f.write(f'{name},{float(r["mass_kg"]):g},{cx:g},{cy:g},{cz:g},{float(r["Ixx"]):g},'
                f'{float(r["Iyy"]):g},{float(r["Izz"]):g}\n')
print("written to", out)
