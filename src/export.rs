//! Export the scaled model for other tools: MuJoCo MJCF and OpenSim `.osim`.
//!
//! Both keep OpenSim's frames (y up, x forward, z right) and coordinate names, so a
//! `.mot` written by `hipdrop run` plays on the exported `.osim`. Limitations (also in
//! `docs/scenarios.md`): MJCF has no conditional or moving path points, so those are
//! fixed sites at the default pose; MJCF joint ranges are the passive-limit ranges
//! hipdrop uses (AAOS normal ranges), as hard limits; the knee is a pin joint as in
//! hipdrop (gait2392 moves the knee centre along splines); the OpenSim muscles are
//! `Thelen2003Muscle` with hipdrop's parameters (hipdrop itself uses De Groote curves
//! and a rigid tendon); the contact with the ground is not exported.

use crate::math::Vec3;
use crate::model::{body, coord, coord_names, JointKind, Model, PointKind, BODY_NAMES};
use std::fmt::Write;

fn v(x: &Vec3) -> String {
    format!("{} {} {}", r(x.x), r(x.y), r(x.z))
}
fn r(x: f64) -> String {
    // 9 significant decimals are plenty for metres and keep files readable.
    let s = format!("{:.9}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// Coordinates of a joint: (name, axis in the parent frame, coordinate index or None).
fn joint_axes(m: &Model, j: usize) -> Vec<(Vec3, Option<usize>)> {
    let jt = &m.joints[j];
    match &jt.kind {
        JointKind::Cardan(a) => (0..3)
            .map(|k| (a[k].normalize(), Some(jt.first_coord + k)))
            .collect(),
        JointKind::Revolute(a) => {
            let a = a.normalize();
            let t = if a.x.abs() < 0.9 {
                Vec3::x()
            } else {
                Vec3::y()
            };
            let b = a.cross(&t).normalize();
            let c = a.cross(&b);
            vec![(a, Some(jt.first_coord)), (b, None), (c, None)]
        }
    }
}

fn children(m: &Model, parent: usize) -> Vec<usize> {
    (0..m.joints.len())
        .filter(|&j| m.joints[j].parent == parent)
        .collect()
}

/// MuJoCo MJCF: bodies, hinge joints (three per ball-like joint, in OpenSim's order),
/// capsule geoms, path-point sites, spatial tendons and muscle actuators.
pub fn mjcf(name: &str, m: &Model) -> String {
    let s = m.length_scale;
    let q0 = [0.0; coord::COUNT];
    let names = coord_names();
    let mut sites: Vec<Vec<(String, Vec3)>> = vec![Vec::new(); body::COUNT];
    for mu in &m.muscles {
        for (k, p) in mu.points.iter().enumerate() {
            sites[p.body].push((format!("{}-P{}", mu.name, k + 1), p.local(&q0)));
        }
    }
    let mut x = String::new();
    let _ = writeln!(x, "<mujoco model=\"{name}\">");
    let _ = writeln!(x, "  <!-- Written by hipdrop {} from OpenSim gait2392 scaled to {} kg, {} m. Frames as OpenSim: y up, x forward, z right. Limitations: docs/scenarios.md#export. -->", env!("CARGO_PKG_VERSION"), r(m.subject.mass_kg), r(m.subject.height_m));
    x.push_str("  <compiler angle=\"radian\" autolimits=\"true\"/>\n");
    x.push_str("  <option gravity=\"0 -9.80665 0\" timestep=\"0.001\"/>\n");
    x.push_str("  <default>\n    <geom contype=\"0\" conaffinity=\"0\" rgba=\"0.9 0.85 0.75 1\"/>\n    <site size=\"0.005\" rgba=\"0.8 0.2 0.2 1\"/>\n    <tendon width=\"0.003\" rgba=\"0.8 0.2 0.2 1\"/>\n    <muscle ctrllimited=\"true\" ctrlrange=\"0 1\" timeconst=\"0.01 0.04\"/>\n  </default>\n");
    x.push_str("  <worldbody>\n    <light pos=\"0 3 2\" dir=\"0 -1 -0.5\"/>\n    <geom name=\"floor\" type=\"plane\" size=\"3 3 0.1\" zaxis=\"0 1 0\" contype=\"1\" conaffinity=\"1\" rgba=\"0.6 0.6 0.6 1\"/>\n");
    struct Ctx<'a> {
        m: &'a Model,
        sites: &'a [Vec<(String, Vec3)>],
        names: &'a [String],
        s: f64,
    }
    fn emit(x: &mut String, c: &Ctx, b: usize, joint: Option<usize>, depth: usize) {
        let (m, sites, names, s) = (c.m, c.sites, c.names, c.s);
        let ind = "  ".repeat(depth);
        let pos = joint
            .map(|j| m.joints[j].location_in_parent_m)
            .unwrap_or(Vec3::new(0.0, 0.95 * s, 0.0));
        let _ = writeln!(
            x,
            "{ind}<body name=\"{}\" pos=\"{}\">",
            BODY_NAMES[b],
            v(&pos)
        );
        match joint {
            None => {
                let _ = writeln!(x, "{ind}  <freejoint name=\"ground_pelvis\"/>");
            }
            Some(j) => {
                for (axis, c) in joint_axes(m, j) {
                    if let Some(c) = c {
                        let l = &m.limits[c];
                        let _ = writeln!(
                            x,
                            "{ind}  <joint name=\"{}\" type=\"hinge\" axis=\"{}\" range=\"{} {}\"/>",
                            names[c],
                            v(&axis),
                            r(l.lower_rad),
                            r(l.upper_rad)
                        );
                    }
                }
            }
        }
        let bd = &m.bodies[b];
        let _ = writeln!(
            x,
            "{ind}  <inertial pos=\"{}\" mass=\"{}\" diaginertia=\"{}\"/>",
            v(&bd.com_m),
            r(bd.mass_kg),
            v(&bd.inertia_kg_m2)
        );
        let kids = children(m, b);
        let rad = 0.04 * s;
        if b == body::PELVIS {
            let _ = writeln!(
                x,
                "{ind}  <geom type=\"sphere\" size=\"{}\" pos=\"{}\"/>",
                r(0.08 * s),
                v(&Vec3::new(-0.05 * s, 0.0, 0.0))
            );
        } else if b == body::TORSO {
            let _ = writeln!(
                x,
                "{ind}  <geom type=\"capsule\" size=\"{}\" fromto=\"0 {} 0 0 {} 0\"/>",
                r(0.12 * s),
                r(0.1 * s),
                r(0.55 * s)
            );
        } else if kids.is_empty() {
            // Foot: heel to toes.
            let _ = writeln!(x, "{ind}  <geom type=\"capsule\" size=\"{}\" fromto=\"{} {}\" contype=\"1\" conaffinity=\"1\"/>", r(0.025 * s), v(&Vec3::new(-0.01 * s, 0.0, 0.0)), v(&Vec3::new(0.2 * s, -0.002 * s, 0.0)));
        }
        for &k in &kids {
            let to = m.joints[k].location_in_parent_m;
            if to.norm() > 0.02 * s && b != body::PELVIS {
                let _ = writeln!(
                    x,
                    "{ind}  <geom type=\"capsule\" size=\"{}\" fromto=\"0 0 0 {}\"/>",
                    r(rad),
                    v(&to)
                );
            }
        }
        for (n, p) in &sites[b] {
            let _ = writeln!(x, "{ind}  <site name=\"{n}\" pos=\"{}\"/>", v(p));
        }
        for k in kids {
            emit(x, c, m.joints[k].child, Some(k), depth + 1);
        }
        let _ = writeln!(x, "{ind}</body>");
    }
    let ctx = Ctx {
        m,
        sites: &sites,
        names: &names,
        s,
    };
    emit(&mut x, &ctx, body::PELVIS, None, 2);
    x.push_str("  </worldbody>\n  <tendon>\n");
    for mu in &m.muscles {
        let _ = writeln!(x, "    <spatial name=\"{}\">", mu.name);
        for k in 0..mu.points.len() {
            let _ = writeln!(x, "      <site site=\"{}-P{}\"/>", mu.name, k + 1);
        }
        x.push_str("    </spatial>\n");
    }
    x.push_str("  </tendon>\n  <actuator>\n");
    for mu in &m.muscles {
        let _ = writeln!(
            x,
            "    <muscle name=\"{0}\" tendon=\"{0}\" force=\"{1}\"/>",
            mu.name,
            r(mu.params.max_isometric_force_n)
        );
    }
    x.push_str("  </actuator>\n</mujoco>\n");
    x
}

fn body_path(b: usize) -> String {
    format!("/bodyset/{}", BODY_NAMES[b])
}

/// OpenSim 4 model: bodies, CustomJoints (one per gait2392 joint, OpenSim's coordinate
/// names), and Thelen2003 muscles with fixed, conditional and moving path points.
pub fn osim(name: &str, m: &Model) -> String {
    let names = coord_names();
    let mut coord_joint = vec![String::new(); coord::COUNT];
    for j in &m.joints {
        for k in 0..j.ncoords() {
            coord_joint[j.first_coord + k] = j.name.clone();
        }
    }
    let mut x = String::new();
    x.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<OpenSimDocument Version=\"40000\">\n",
    );
    let _ = writeln!(x, "  <Model name=\"{name}\">");
    let _ = writeln!(x, "    <credits>Written by hipdrop {} from OpenSim gait2392 (Delp et al. 1990; CC BY 3.0) scaled to {} kg, {} m. Limitations: hipdrop docs/scenarios.md#export.</credits>", env!("CARGO_PKG_VERSION"), r(m.subject.mass_kg), r(m.subject.height_m));
    x.push_str("    <gravity>0 -9.80665 0</gravity>\n    <length_units>meters</length_units>\n    <force_units>N</force_units>\n    <Ground name=\"ground\"/>\n");
    x.push_str("    <BodySet name=\"bodyset\">\n      <objects>\n");
    for b in &m.bodies {
        let _ = writeln!(
            x,
            "        <Body name=\"{}\">\n          <mass>{}</mass>\n          <mass_center>{}</mass_center>\n          <inertia>{} 0 0 0</inertia>\n        </Body>",
            b.name,
            r(b.mass_kg),
            v(&b.com_m),
            v(&b.inertia_kg_m2)
        );
    }
    x.push_str(
        "      </objects>\n    </BodySet>\n    <JointSet name=\"jointset\">\n      <objects>\n",
    );
    // (joint name, parent path, child body, location, axes with coordinate names, translations)
    let coordinate = |x: &mut String, n: &str, lo: f64, hi: f64| {
        let _ = writeln!(x, "            <Coordinate name=\"{n}\">\n              <default_value>0</default_value>\n              <range>{} {}</range>\n            </Coordinate>", r(lo), r(hi));
    };
    let transform = |x: &mut String, tag: &str, axis: &Vec3, c: Option<&str>| {
        let f = match c {
            Some(_) => "<LinearFunction name=\"function\"><coefficients>1 0</coefficients></LinearFunction>",
            None => "<Constant name=\"function\"><value>0</value></Constant>",
        };
        let _ = writeln!(x, "              <TransformAxis name=\"{tag}\">\n                <coordinates>{}</coordinates>\n                <axis>{}</axis>\n                {f}\n              </TransformAxis>", c.unwrap_or(""), v(axis));
    };
    let joint = |x: &mut String,
                 jname: &str,
                 parent: &str,
                 child: &str,
                 loc: &Vec3,
                 rot: &[(Vec3, Option<String>)],
                 trans: &[Option<String>],
                 coords: &[(String, f64, f64)]| {
        let _ = writeln!(x, "        <CustomJoint name=\"{jname}\">\n          <socket_parent_frame>{0}_offset</socket_parent_frame>\n          <socket_child_frame>{1}_offset</socket_child_frame>\n          <coordinates>", parent.rsplit('/').next().unwrap_or(parent), child);
        for (n, lo, hi) in coords {
            coordinate(x, n, *lo, *hi);
        }
        let _ = writeln!(x, "          </coordinates>\n          <frames>\n            <PhysicalOffsetFrame name=\"{0}_offset\">\n              <socket_parent>{parent}</socket_parent>\n              <translation>{1}</translation>\n              <orientation>0 0 0</orientation>\n            </PhysicalOffsetFrame>\n            <PhysicalOffsetFrame name=\"{child}_offset\">\n              <socket_parent>/bodyset/{child}</socket_parent>\n              <translation>0 0 0</translation>\n              <orientation>0 0 0</orientation>\n            </PhysicalOffsetFrame>\n          </frames>\n          <SpatialTransform>", parent.rsplit('/').next().unwrap_or(parent), v(loc));
        for (k, (a, c)) in rot.iter().enumerate() {
            transform(x, &format!("rotation{}", k + 1), a, c.as_deref());
        }
        for (k, c) in trans.iter().enumerate() {
            let a = [Vec3::x(), Vec3::y(), Vec3::z()][k];
            transform(x, &format!("translation{}", k + 1), &a, c.as_deref());
        }
        x.push_str("          </SpatialTransform>\n        </CustomJoint>\n");
    };
    let pi2 = std::f64::consts::FRAC_PI_2;
    joint(
        &mut x,
        "ground_pelvis",
        "/ground",
        "pelvis",
        &Vec3::zeros(),
        &[
            (Vec3::z(), Some("pelvis_tilt".into())),
            (Vec3::x(), Some("pelvis_list".into())),
            (Vec3::y(), Some("pelvis_rotation".into())),
        ],
        &[
            Some("pelvis_tx".into()),
            Some("pelvis_ty".into()),
            Some("pelvis_tz".into()),
        ],
        &[
            ("pelvis_tilt".into(), -pi2, pi2),
            ("pelvis_list".into(), -pi2, pi2),
            ("pelvis_rotation".into(), -pi2, pi2),
            ("pelvis_tx".into(), -5.0, 5.0),
            ("pelvis_ty".into(), -1.0, 2.0),
            ("pelvis_tz".into(), -5.0, 5.0),
        ],
    );
    for (ji, j) in m.joints.iter().enumerate() {
        let axes = joint_axes(m, ji);
        let rot: Vec<(Vec3, Option<String>)> = axes
            .iter()
            .map(|(a, c)| (*a, c.map(|c| names[c].clone())))
            .collect();
        let coords: Vec<(String, f64, f64)> = axes
            .iter()
            .filter_map(|(_, c)| *c)
            .map(|c| {
                (
                    names[c].clone(),
                    m.limits[c].lower_rad,
                    m.limits[c].upper_rad,
                )
            })
            .collect();
        joint(
            &mut x,
            &j.name,
            &body_path(j.parent),
            BODY_NAMES[j.child],
            &j.location_in_parent_m,
            &rot,
            &[None, None, None],
            &coords,
        );
    }
    x.push_str(
        "      </objects>\n    </JointSet>\n    <ForceSet name=\"forceset\">\n      <objects>\n",
    );
    for mu in &m.muscles {
        let _ = writeln!(x, "        <Thelen2003Muscle name=\"{}\">\n          <GeometryPath name=\"geometrypath\">\n            <PathPointSet>\n              <objects>", mu.name);
        for (k, p) in mu.points.iter().enumerate() {
            let pn = format!("{}-P{}", mu.name, k + 1);
            let frame = body_path(p.body);
            match &p.kind {
                PointKind::Fixed => {
                    let _ = writeln!(x, "                <PathPoint name=\"{pn}\">\n                  <socket_parent_frame>{frame}</socket_parent_frame>\n                  <location>{}</location>\n                </PathPoint>", v(&p.location_m));
                }
                PointKind::Conditional { coord: c, lo, hi } => {
                    let _ = writeln!(x, "                <ConditionalPathPoint name=\"{pn}\">\n                  <socket_parent_frame>{frame}</socket_parent_frame>\n                  <location>{}</location>\n                  <socket_coordinate>/jointset/{}/{}</socket_coordinate>\n                  <range>{} {}</range>\n                </ConditionalPathPoint>", v(&p.location_m), coord_joint[*c], names[*c], r(*lo), r(*hi));
                }
                PointKind::Moving {
                    coord: c,
                    xyz,
                    scale,
                } => {
                    let _ = writeln!(x, "                <MovingPathPoint name=\"{pn}\">\n                  <socket_parent_frame>{frame}</socket_parent_frame>");
                    for (axis, sp) in ["x", "y", "z"].iter().zip(xyz.iter()) {
                        let (kx, ky) = sp.knots();
                        let kx: Vec<String> = kx.iter().map(|t| r(*t)).collect();
                        let ky: Vec<String> = ky.iter().map(|t| r(t * scale)).collect();
                        let _ = writeln!(x, "                  <{axis}_location>\n                    <SimmSpline>\n                      <x>{}</x>\n                      <y>{}</y>\n                    </SimmSpline>\n                  </{axis}_location>", kx.join(" "), ky.join(" "));
                    }
                    for axis in ["x", "y", "z"] {
                        let _ = writeln!(x, "                  <socket_{axis}_coordinate>/jointset/{}/{}</socket_{axis}_coordinate>", coord_joint[*c], names[*c]);
                    }
                    x.push_str("                </MovingPathPoint>\n");
                }
            }
        }
        let p = &mu.params;
        let _ = writeln!(x, "              </objects>\n            </PathPointSet>\n          </GeometryPath>\n          <max_isometric_force>{}</max_isometric_force>\n          <optimal_fiber_length>{}</optimal_fiber_length>\n          <tendon_slack_length>{}</tendon_slack_length>\n          <pennation_angle_at_optimal>{}</pennation_angle_at_optimal>\n          <max_contraction_velocity>{}</max_contraction_velocity>\n        </Thelen2003Muscle>", r(p.max_isometric_force_n), r(p.optimal_fiber_length_m), r(p.tendon_slack_length_m), r(p.pennation_at_optimal_rad), r(p.max_contraction_velocity_lopt_per_s));
    }
    x.push_str("      </objects>\n    </ForceSet>\n  </Model>\n</OpenSimDocument>\n");
    x
}
