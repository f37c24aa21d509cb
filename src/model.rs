//! The musculoskeletal model: bodies, joints, coordinates and muscles of OpenSim's
//! gait2392, scaled to a subject. Immutable once built (`Send + Sync`): the state
//! of a simulation lives elsewhere.
//!
//! Why gait2392 and not Rajagopal 2016: gait2392 lumps head, arms and trunk into one
//! body (the issue's "trunk"), has no wrapping surfaces (its paths use via points and
//! conditional points, which hipdrop evaluates exactly), and is the model behind most
//! published single-leg-stance and walking analyses. Rajagopal's hip paths need
//! wrapping cylinders that straight-line paths only approximate.

use crate::math::{axis_angle, from_cardan_zxy, Quat, Spline, Vec3};
use crate::muscle::MuscleParams;
use nalgebra::Isometry3;
use std::collections::BTreeMap;

/// Rigid transform body -> world.
pub type Iso = Isometry3<f64>;

/// Mass of the generic gait2392 subject (kg): the sum of its segment masses.
pub const GENERIC_MASS_KG: f64 = 75.1646;
/// Height of the generic gait2392 subject (m).
pub const GENERIC_HEIGHT_M: f64 = 1.80;
/// Standard gravity (m/s^2).
pub const GRAVITY: f64 = 9.80665;

/// Body indices. The foot is calcn and toes merged.
pub mod body {
    /// Head, arms and trunk.
    pub const TORSO: usize = 0;
    /// Pelvis.
    pub const PELVIS: usize = 1;
    /// First right-leg body; add [`super::LEG_BODIES`] for the left leg.
    pub const FEMUR_R: usize = 2;
    /// Right tibia.
    pub const TIBIA_R: usize = 3;
    /// Right talus.
    pub const TALUS_R: usize = 4;
    /// Right foot (calcaneus and toes).
    pub const FOOT_R: usize = 5;
    /// Number of bodies.
    pub const COUNT: usize = 10;
}
/// Bodies per leg (femur, tibia, talus, foot).
pub const LEG_BODIES: usize = 4;

/// Names of the bodies, by index.
pub const BODY_NAMES: [&str; body::COUNT] = [
    "torso", "pelvis", "femur_r", "tibia_r", "talus_r", "foot_r", "femur_l", "tibia_l", "talus_l",
    "foot_l",
];

/// Left or right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Right side (+z in OpenSim's frames).
    Right,
    /// Left side.
    Left,
}

impl Side {
    /// `"r"` or `"l"`, OpenSim's suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Side::Right => "r",
            Side::Left => "l",
        }
    }
    /// `"right"` or `"left"`, for text.
    pub fn word(self) -> &'static str {
        match self {
            Side::Right => "right",
            Side::Left => "left",
        }
    }
    /// +1 for right, -1 for left: the sign of lateral (z) on this side.
    pub fn sign(self) -> f64 {
        match self {
            Side::Right => 1.0,
            Side::Left => -1.0,
        }
    }
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Right => Side::Left,
            Side::Left => Side::Right,
        }
    }
    /// Index offset of this leg's bodies and coordinates.
    fn leg(self) -> usize {
        match self {
            Side::Right => 0,
            Side::Left => 1,
        }
    }
}

/// Coordinate indices into the generalized-coordinate array (OpenSim names and signs,
/// radians). Per leg: hip flexion, adduction, rotation, knee_angle (negative in
/// flexion), ankle_angle, subtalar_angle; then the three lumbar coordinates.
pub mod coord {
    /// Per-leg offsets.
    pub const HIP_FLEXION: usize = 0;
    /// Hip adduction (+) / abduction (-).
    pub const HIP_ADDUCTION: usize = 1;
    /// Hip internal (+) / external (-) rotation.
    pub const HIP_ROTATION: usize = 2;
    /// Knee angle, negative in flexion (gait2392).
    pub const KNEE: usize = 3;
    /// Ankle dorsiflexion (+).
    pub const ANKLE: usize = 4;
    /// Subtalar inversion (+).
    pub const SUBTALAR: usize = 5;
    /// Coordinates per leg.
    pub const PER_LEG: usize = 6;
    /// Lumbar extension (+).
    pub const LUMBAR_EXTENSION: usize = 12;
    /// Lumbar bending (+ toward the left? see OpenSim: rotation about +x).
    pub const LUMBAR_BENDING: usize = 13;
    /// Lumbar axial rotation.
    pub const LUMBAR_ROTATION: usize = 14;
    /// Number of coordinates.
    pub const COUNT: usize = 15;
}

/// Index of a leg coordinate for a side.
pub fn leg_coord(side: Side, c: usize) -> usize {
    side.leg() * coord::PER_LEG + c
}
/// Index of a leg body for a side (`body::FEMUR_R` ..= `body::FOOT_R` on the right).
pub fn leg_body(side: Side, b: usize) -> usize {
    b + side.leg() * LEG_BODIES
}

/// OpenSim names of the coordinates, by index.
pub fn coord_names() -> [String; coord::COUNT] {
    let leg = [
        "hip_flexion",
        "hip_adduction",
        "hip_rotation",
        "knee_angle",
        "ankle_angle",
        "subtalar_angle",
    ];
    std::array::from_fn(|i| {
        if i < 12 {
            let side = if i < 6 { "r" } else { "l" };
            format!("{}_{}", leg[i % 6], side)
        } else {
            ["lumbar_extension", "lumbar_bending", "lumbar_rotation"][i - 12].to_string()
        }
    })
}

/// A rigid body's inertial properties in its own frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// Name (`femur_r`, ...).
    pub name: String,
    /// Mass (kg).
    pub mass_kg: f64,
    /// Centre of mass in the body frame (m).
    pub com_m: Vec3,
    /// Principal moments of inertia about the COM, in body axes (kg m^2).
    pub inertia_kg_m2: Vec3,
}

/// How a joint moves.
#[derive(Debug, Clone, PartialEq)]
pub enum JointKind {
    /// Three rotations about body-fixed axes (parent frame), in order.
    Cardan([Vec3; 3]),
    /// One rotation about an axis (parent frame).
    Revolute(Vec3),
}

/// A joint between a parent and a child body.
#[derive(Debug, Clone, PartialEq)]
pub struct Joint {
    /// Name (`hip_r`, `knee_r`, ..., `back`).
    pub name: String,
    /// Parent body index.
    pub parent: usize,
    /// Child body index.
    pub child: usize,
    /// Joint centre in the parent frame (m); the child's origin sits there.
    pub location_in_parent_m: Vec3,
    /// Axes.
    pub kind: JointKind,
    /// First coordinate index; the joint has 1 (revolute) or 3 (Cardan) coordinates.
    pub first_coord: usize,
}

impl Joint {
    /// The joint's coordinates as bits of a mask (bit `k` for coordinate `k`).
    pub fn coord_mask(&self) -> u16 {
        ((1u16 << self.ncoords()) - 1) << self.first_coord
    }

    /// Number of coordinates.
    pub fn ncoords(&self) -> usize {
        match self.kind {
            JointKind::Cardan(_) => 3,
            JointKind::Revolute(_) => 1,
        }
    }
    /// Rotation child -> parent for coordinate values `q` (rad).
    pub fn rotation(&self, q: &[f64]) -> Quat {
        match &self.kind {
            JointKind::Cardan(a) => {
                axis_angle(&a[0], q[0]) * axis_angle(&a[1], q[1]) * axis_angle(&a[2], q[2])
            }
            JointKind::Revolute(a) => axis_angle(a, q[0]),
        }
    }
    /// Coordinate axes in the parent frame at `q`: the columns of the map from
    /// coordinate rates to relative angular velocity (parent frame).
    pub fn axes_in_parent(&self, q: &[f64]) -> ([Vec3; 3], usize) {
        match &self.kind {
            JointKind::Cardan(a) => {
                let r1 = axis_angle(&a[0], q[0]);
                let r2 = r1 * axis_angle(&a[1], q[1]);
                (
                    [
                        a[0].normalize(),
                        r1 * a[1].normalize(),
                        r2 * a[2].normalize(),
                    ],
                    3,
                )
            }
            JointKind::Revolute(a) => ([a.normalize(), Vec3::zeros(), Vec3::zeros()], 1),
        }
    }
    /// Coordinate values of a relative rotation child -> parent (inverse of [`Self::rotation`]).
    pub fn coords_of(&self, r: &Quat) -> [f64; 3] {
        match &self.kind {
            JointKind::Cardan(a) => {
                // Axes are (Z, X, Y) on the right and (Z, -X, -Y) on the left.
                let ang = crate::math::cardan_zxy(r);
                [ang[0], ang[1] * a[1].x.signum(), ang[2] * a[2].y.signum()]
            }
            JointKind::Revolute(a) => {
                let n = a.normalize();
                let (axis, angle) = r
                    .axis_angle()
                    .map(|(ax, an)| (ax.into_inner(), an))
                    .unwrap_or((n, 0.0));
                [if axis.dot(&n) >= 0.0 { angle } else { -angle }, 0.0, 0.0]
            }
        }
    }
}

/// Where a path point sits.
#[derive(Debug, Clone, PartialEq)]
pub enum PointKind {
    /// Fixed in its body.
    Fixed,
    /// Part of the path only while `coord` is within [lo, hi] (rad).
    Conditional {
        /// Coordinate index.
        coord: usize,
        /// Lower bound (rad).
        lo: f64,
        /// Upper bound (rad).
        hi: f64,
    },
    /// Position in the body is a spline of `coord` (gait2392's patella substitute).
    Moving {
        /// Coordinate index.
        coord: usize,
        /// x, y, z splines (m, before scaling).
        xyz: Box<[Spline; 3]>,
        /// Length scale applied to the spline values.
        scale: f64,
    },
}

/// One point of a muscle path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPoint {
    /// Body index.
    pub body: usize,
    /// Location in the body frame (m), for fixed and conditional points.
    pub location_m: Vec3,
    /// Kind.
    pub kind: PointKind,
}

impl PathPoint {
    /// Whether the point is part of the path at coordinates `q`.
    pub fn active(&self, q: &[f64]) -> bool {
        match self.kind {
            PointKind::Conditional { coord, lo, hi } => q[coord] >= lo && q[coord] <= hi,
            _ => true,
        }
    }
    /// Location in the body frame at coordinates `q` (m).
    pub fn local(&self, q: &[f64]) -> Vec3 {
        match &self.kind {
            PointKind::Moving { coord, xyz, scale } => {
                let t = q[*coord];
                Vec3::new(xyz[0].eval(t), xyz[1].eval(t), xyz[2].eval(t)) * *scale
            }
            _ => self.location_m,
        }
    }
}

/// A muscle: parameters and path.
#[derive(Debug, Clone, PartialEq)]
pub struct Muscle {
    /// Full name with side (`glut_med1_r`).
    pub name: String,
    /// Name without side (`glut_med1`).
    pub base: String,
    /// Side.
    pub side: Side,
    /// Parameters after scaling and strength factors.
    pub params: MuscleParams,
    /// Strength factor applied to the nominal max isometric force.
    pub strength: f64,
    /// Path points, origin first.
    pub points: Vec<PathPoint>,
}

/// Passive limit moment of one coordinate (OpenSim CoordinateLimitForce form).
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Lower bound of the normal range (rad).
    pub lower_rad: f64,
    /// Upper bound (rad).
    pub upper_rad: f64,
    /// Stiffness past the bound (N m/rad).
    pub stiffness_nm_per_rad: f64,
    /// Width of the smooth transition (rad).
    pub transition_rad: f64,
    /// Damping past the bound (N m s/rad).
    pub damping_nms_per_rad: f64,
    /// Stiffness of the end stop past the bound (N m/rad): zero inside the range, rising
    /// quadratically over `stop_onset_rad` past it, then linear.
    pub stop_stiffness_nm_per_rad: f64,
    /// Width over which the end stop engages (rad).
    pub stop_onset_rad: f64,
    /// Damping of the end stop once engaged (N m s/rad).
    pub stop_damping_nms_per_rad: f64,
}

impl Limit {
    /// Passive generalized force (N m) at angle `q` (rad) and rate `qd` (rad/s).
    pub fn moment(&self, q: f64, qd: f64) -> f64 {
        use crate::math::{logistic, softplus};
        let w = self.transition_rad;
        let up = q - self.upper_rad;
        let lo = self.lower_rad - q;
        let k = self.stiffness_nm_per_rad;
        let elastic = -k * softplus(up, w) + k * softplus(lo, w);
        let engaged = logistic(up, w) + logistic(lo, w);
        let tissue = elastic - self.damping_nms_per_rad * engaged * qd;
        if up <= 0.0 && lo <= 0.0 {
            // Inside the range the end stop is exactly zero.
            return tissue;
        }
        // End stop: quadratic onset over `stop_onset_rad`, then linear; C1 at both joins.
        let (ks, ws) = (self.stop_stiffness_nm_per_rad, self.stop_onset_rad);
        let stop = |x: f64| {
            if x <= 0.0 {
                0.0
            } else if x < ws {
                ks * x * x / (2.0 * ws)
            } else {
                ks * (x - 0.5 * ws)
            }
        };
        let engaged = (up.max(lo) / ws).min(1.0);
        tissue - stop(up) + stop(lo) - self.stop_damping_nms_per_rad * engaged * qd
    }
}

/// Errors building the model from its data files.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A data file has a malformed row.
    #[error("{file}: {msg}")]
    Data {
        /// File name.
        file: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// A strength key names no muscle or group.
    #[error("strength.{key}: no muscle or group of that name (try `hipdrop list`)")]
    UnknownStrength {
        /// The key.
        key: String,
    },
}

/// Subject-specific scaling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subject {
    /// Body mass (kg).
    pub mass_kg: f64,
    /// Height (m).
    pub height_m: f64,
}

impl Subject {
    /// The generic gait2392 subject: 75.16 kg, 1.80 m (no scaling).
    pub const GENERIC: Subject = Subject {
        mass_kg: GENERIC_MASS_KG,
        height_m: GENERIC_HEIGHT_M,
    };
}

/// The musculoskeletal model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Subject it was scaled to.
    pub subject: Subject,
    /// Bodies, indexed by [`body`].
    pub bodies: Vec<Body>,
    /// Joints: hip_r, knee_r, ankle_r, subtalar_r, hip_l, knee_l, ankle_l, subtalar_l, back.
    pub joints: Vec<Joint>,
    /// Muscles: right side then left side, in data-file order.
    pub muscles: Vec<Muscle>,
    /// Passive limit per coordinate.
    pub limits: Vec<Limit>,
    /// Muscle groups: name -> base muscle names.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Length scale factor applied to the generic model.
    pub length_scale: f64,
    /// ASIS position in the pelvis frame, right side (m); mirror z for the left.
    pub asis_r_m: Vec3,
}

const MUSCLES_CSV: &str = include_str!("../data/gait2392_muscles.csv");
const POINTS_CSV: &str = include_str!("../data/gait2392_path_points.csv");
const BODIES_CSV: &str = include_str!("../data/gait2392_bodies.csv");
const JOINTS_CSV: &str = include_str!("../data/gait2392_joints.csv");
const LIMITS_CSV: &str = include_str!("../data/joint_limits.csv");
const GROUPS_CSV: &str = include_str!("../data/muscle_groups.csv");

fn rows(file: &'static str, text: &str) -> Result<Vec<csv::StringRecord>, ModelError> {
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .has_headers(true)
        .from_reader(text.as_bytes());
    rdr.records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ModelError::Data {
            file,
            msg: e.to_string(),
        })
}

fn num(file: &'static str, s: &str) -> Result<f64, ModelError> {
    s.trim().parse().map_err(|_| ModelError::Data {
        file,
        msg: format!("'{s}' is not a number"),
    })
}

fn vec3(file: &'static str, s: &str) -> Result<Vec3, ModelError> {
    let v: Vec<f64> = s
        .split_whitespace()
        .map(|t| num(file, t))
        .collect::<Result<_, _>>()?;
    if v.len() != 3 {
        return Err(ModelError::Data {
            file,
            msg: format!("'{s}' is not three numbers"),
        });
    }
    Ok(Vec3::new(v[0], v[1], v[2]))
}

/// gait2392's MTP joint centre (the toes' origin) in the right calcaneus frame, generic
/// size (m): the `toe` landmark and the swing foot's toe contact point.
pub const MTP_IN_FOOT_M: Vec3 = Vec3::new(0.1788, -0.002, 0.00108);

/// Mirror a right-side position to the left (z -> -z).
pub(crate) fn mirror_point(p: Vec3) -> Vec3 {
    Vec3::new(p.x, p.y, -p.z)
}
/// Mirror a right-side rotation axis to the left ((x, y, z) -> (-x, -y, z)).
fn mirror_axis(a: Vec3) -> Vec3 {
    Vec3::new(-a.x, -a.y, a.z)
}

impl Model {
    /// Build the gait2392 model scaled to `subject`, with strength factors per muscle
    /// or group (`strength["hip_abductors"] = 0.3`). Factors multiply where a muscle is
    /// named by several keys. A key may end in `_r`/`_l` to apply to one side only.
    pub fn gait2392(
        subject: Subject,
        strength: &BTreeMap<String, f64>,
    ) -> Result<Model, ModelError> {
        let s = subject.height_m / GENERIC_HEIGHT_M;
        let ms = subject.mass_kg / GENERIC_MASS_KG;
        // Muscle force scales with physiological cross-section: with geometric
        // similarity, F_iso ~ mass^(2/3) (Hill's scaling; as in SCONE/Hicks et al.).
        let fs = ms.powf(2.0 / 3.0);

        // Bodies.
        let mut generic: BTreeMap<String, Body> = BTreeMap::new();
        for r in rows("gait2392_bodies.csv", BODIES_CSV)? {
            let f = "gait2392_bodies.csv";
            generic.insert(
                r[0].to_string(),
                Body {
                    name: r[0].to_string(),
                    mass_kg: num(f, &r[1])?,
                    com_m: Vec3::new(num(f, &r[2])?, num(f, &r[3])?, num(f, &r[4])?),
                    inertia_kg_m2: Vec3::new(num(f, &r[5])?, num(f, &r[6])?, num(f, &r[7])?),
                },
            );
        }
        let get = |n: &str| {
            generic.get(n).cloned().ok_or(ModelError::Data {
                file: "gait2392_bodies.csv",
                msg: format!("missing body {n}"),
            })
        };
        // Merge calcn and toes into one foot (toes frame at the mtp joint, mtp angle 0).
        let toes_origin = MTP_IN_FOOT_M;
        let (calcn, toes) = (get("calcn")?, get("toes")?);
        let foot = {
            let m = calcn.mass_kg + toes.mass_kg;
            let c_t = toes.com_m + toes_origin;
            let com = (calcn.com_m * calcn.mass_kg + c_t * toes.mass_kg) / m;
            let pa = |b: &Body, c: Vec3| {
                let d = c - com;
                b.inertia_kg_m2
                    + b.mass_kg
                        * Vec3::new(
                            d.y * d.y + d.z * d.z,
                            d.x * d.x + d.z * d.z,
                            d.x * d.x + d.y * d.y,
                        )
            };
            Body {
                name: "foot".into(),
                mass_kg: m,
                com_m: com,
                inertia_kg_m2: pa(&calcn, calcn.com_m) + pa(&toes, c_t),
            }
        };
        let scale_body = |b: &Body, name: &str, mirror: bool| Body {
            name: name.to_string(),
            mass_kg: b.mass_kg * ms,
            com_m: if mirror {
                mirror_point(b.com_m)
            } else {
                b.com_m
            } * s,
            inertia_kg_m2: b.inertia_kg_m2 * (ms * s * s),
        };
        let mut bodies = vec![
            scale_body(&get("torso")?, "torso", false),
            scale_body(&get("pelvis")?, "pelvis", false),
        ];
        for side in [Side::Right, Side::Left] {
            let m = side == Side::Left;
            for (n, b) in [
                ("femur", get("femur")?),
                ("tibia", get("tibia")?),
                ("talus", get("talus")?),
                ("foot", foot.clone()),
            ] {
                bodies.push(scale_body(&b, &format!("{n}_{}", side.suffix()), m));
            }
        }

        // Joints.
        let f = "gait2392_joints.csv";
        let mut jrows = BTreeMap::new();
        for r in rows(f, JOINTS_CSV)? {
            let axes: Vec<Vec3> = r[6]
                .split('|')
                .map(|a| vec3(f, a))
                .collect::<Result<_, _>>()?;
            jrows.insert(
                r[0].to_string(),
                (
                    Vec3::new(num(f, &r[3])?, num(f, &r[4])?, num(f, &r[5])?),
                    axes,
                ),
            );
        }
        let mut joints = Vec::new();
        for side in [Side::Right, Side::Left] {
            let m = side == Side::Left;
            let mp = |p: Vec3| if m { mirror_point(p) } else { p };
            let ma = |a: Vec3| if m { mirror_axis(a) } else { a };
            let names = [
                ("hip", body::PELVIS, body::FEMUR_R, coord::HIP_FLEXION),
                ("knee", body::FEMUR_R, body::TIBIA_R, coord::KNEE),
                ("ankle", body::TIBIA_R, body::TALUS_R, coord::ANKLE),
                ("subtalar", body::TALUS_R, body::FOOT_R, coord::SUBTALAR),
            ];
            for (n, parent, child, c) in names {
                let (loc, axes) = jrows.get(n).ok_or(ModelError::Data {
                    file: f,
                    msg: format!("missing joint {n}"),
                })?;
                let parent = if parent == body::PELVIS {
                    parent
                } else {
                    leg_body(side, parent)
                };
                let kind = if axes.len() == 3 {
                    JointKind::Cardan([ma(axes[0]), ma(axes[1]), ma(axes[2])])
                } else {
                    JointKind::Revolute(ma(axes[0]))
                };
                joints.push(Joint {
                    name: format!("{n}_{}", side.suffix()),
                    parent,
                    child: leg_body(side, child),
                    location_in_parent_m: mp(*loc) * s,
                    kind,
                    first_coord: leg_coord(side, c),
                });
            }
        }
        let (loc, axes) = jrows.get("back").ok_or(ModelError::Data {
            file: f,
            msg: "missing joint back".into(),
        })?;
        joints.push(Joint {
            name: "back".into(),
            parent: body::PELVIS,
            child: body::TORSO,
            location_in_parent_m: loc * s,
            kind: JointKind::Cardan([axes[0], axes[1], axes[2]]),
            first_coord: coord::LUMBAR_EXTENSION,
        });

        // Limits.
        let f = "joint_limits.csv";
        let mut lim = BTreeMap::new();
        for r in rows(f, LIMITS_CSV)? {
            let d = std::f64::consts::PI / 180.0;
            lim.insert(
                r[0].to_string(),
                Limit {
                    lower_rad: num(f, &r[1])? * d,
                    upper_rad: num(f, &r[2])? * d,
                    stiffness_nm_per_rad: num(f, &r[3])? / d,
                    transition_rad: num(f, &r[4])? * d,
                    damping_nms_per_rad: num(f, &r[5])?,
                    stop_stiffness_nm_per_rad: num(f, &r[6])? / d,
                    stop_onset_rad: num(f, &r[7])? * d,
                    stop_damping_nms_per_rad: num(f, &r[8])?,
                },
            );
        }
        let limits = coord_names()
            .iter()
            .map(|n| {
                let key = n.trim_end_matches("_r").trim_end_matches("_l");
                lim.get(key).cloned().ok_or(ModelError::Data {
                    file: f,
                    msg: format!("no limit for {key}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        // Groups.
        let mut groups = BTreeMap::new();
        for r in rows("muscle_groups.csv", GROUPS_CSV)? {
            groups.insert(
                r[0].to_string(),
                r[1].split_whitespace()
                    .map(String::from)
                    .collect::<Vec<_>>(),
            );
        }

        // Muscles and paths.
        let f = "gait2392_path_points.csv";
        // Raw path-point rows per muscle: (index, body, kind, xyz, coord, range, knots).
        type RawPoint = (usize, String, String, [String; 3], String, String, String);
        let mut paths: BTreeMap<String, Vec<RawPoint>> = BTreeMap::new();
        for r in rows(f, POINTS_CSV)? {
            let idx = num(f, &r[1])? as usize;
            paths.entry(r[0].to_string()).or_default().push((
                idx,
                r[2].to_string(),
                r[3].to_string(),
                [r[4].to_string(), r[5].to_string(), r[6].to_string()],
                r[7].to_string(),
                r[8].to_string(),
                r[9].to_string(),
            ));
        }
        let fm = "gait2392_muscles.csv";
        let mrows = rows(fm, MUSCLES_CSV)?;
        let mut muscles = Vec::new();
        for side in [Side::Right, Side::Left] {
            let mirror = side == Side::Left;
            for r in &mrows {
                let base = r[0].to_string();
                let name = format!("{base}_{}", side.suffix());
                let strength = strength_factor(strength, &groups, &base, side);
                let params = MuscleParams {
                    max_isometric_force_n: num(fm, &r[1])? * fs * strength,
                    optimal_fiber_length_m: num(fm, &r[2])? * s,
                    tendon_slack_length_m: num(fm, &r[3])? * s,
                    pennation_at_optimal_rad: num(fm, &r[4])?,
                    max_contraction_velocity_lopt_per_s: num(fm, &r[5])?,
                };
                let mut pts = paths.get(&base).cloned().ok_or(ModelError::Data {
                    file: f,
                    msg: format!("no path for {base}"),
                })?;
                pts.sort_by_key(|p| p.0);
                let mut points = Vec::new();
                for (_, b, kind, xyz, c, lo, hi) in pts {
                    let (bname, offset) = if b == "toes" {
                        ("foot", toes_origin)
                    } else {
                        (b.as_str(), Vec3::zeros())
                    };
                    let bi = match bname {
                        "pelvis" => body::PELVIS,
                        "torso" => body::TORSO,
                        "femur" => leg_body(side, body::FEMUR_R),
                        "tibia" => leg_body(side, body::TIBIA_R),
                        "talus" => leg_body(side, body::TALUS_R),
                        "foot" | "calcn" => leg_body(side, body::FOOT_R),
                        o => {
                            return Err(ModelError::Data {
                                file: f,
                                msg: format!("unknown body {o}"),
                            })
                        }
                    };
                    let coord_index = |c: &str| -> Result<usize, ModelError> {
                        let full = format!("{c}_{}", side.suffix());
                        coord_names()
                            .iter()
                            .position(|n| *n == full)
                            .ok_or(ModelError::Data {
                                file: f,
                                msg: format!("unknown coordinate {c}"),
                            })
                    };
                    let mp = |p: Vec3| if mirror { mirror_point(p) } else { p };
                    let point = match kind.as_str() {
                        "fixed" | "conditional" => {
                            let p = Vec3::new(num(f, &xyz[0])?, num(f, &xyz[1])?, num(f, &xyz[2])?)
                                + offset;
                            let k = if kind == "fixed" {
                                PointKind::Fixed
                            } else {
                                PointKind::Conditional {
                                    coord: coord_index(&c)?,
                                    lo: num(f, &lo)?,
                                    hi: num(f, &hi)?,
                                }
                            };
                            PathPoint {
                                body: bi,
                                location_m: mp(p) * s,
                                kind: k,
                            }
                        }
                        "moving" => {
                            let mut sp = Vec::new();
                            for (k, t) in xyz.iter().enumerate() {
                                let (xs, ys) = t.split_once(';').ok_or(ModelError::Data {
                                    file: f,
                                    msg: format!("bad spline '{t}'"),
                                })?;
                                let xs: Vec<f64> = xs
                                    .split_whitespace()
                                    .map(|v| num(f, v))
                                    .collect::<Result<_, _>>()?;
                                let mut ys: Vec<f64> = ys
                                    .split_whitespace()
                                    .map(|v| num(f, v))
                                    .collect::<Result<_, _>>()?;
                                if mirror && k == 2 {
                                    ys.iter_mut().for_each(|y| *y = -*y);
                                }
                                sp.push(
                                    Spline::new(xs, ys)
                                        .map_err(|msg| ModelError::Data { file: f, msg })?,
                                );
                            }
                            let [x, y, z]: [Spline; 3] = sp.try_into().expect("three splines");
                            PathPoint {
                                body: bi,
                                location_m: Vec3::zeros(),
                                kind: PointKind::Moving {
                                    coord: coord_index(&c)?,
                                    xyz: Box::new([x, y, z]),
                                    scale: s,
                                },
                            }
                        }
                        o => {
                            return Err(ModelError::Data {
                                file: f,
                                msg: format!("unknown point kind {o}"),
                            })
                        }
                    };
                    points.push(point);
                }
                muscles.push(Muscle {
                    name,
                    base,
                    side,
                    params,
                    strength,
                    points,
                });
            }
        }
        // Every strength key must name something.
        for key in strength.keys() {
            let k = key.trim_end_matches("_r").trim_end_matches("_l");
            let known = groups.contains_key(k) || muscles.iter().any(|m| m.base == k) || k == "all";
            if !known {
                return Err(ModelError::UnknownStrength { key: key.clone() });
            }
        }
        Ok(Model {
            subject,
            bodies,
            joints,
            muscles,
            limits,
            groups,
            length_scale: s,
            // gait2392's pelvis origin is the midpoint between the ASIS; its R.ASIS marker
            // sits 0.128 m to the right (gait2392 marker set).
            asis_r_m: Vec3::new(0.0, 0.0, 0.128) * s,
        })
    }

    /// Total mass (kg).
    pub fn mass_kg(&self) -> f64 {
        self.bodies.iter().map(|b| b.mass_kg).sum()
    }

    /// Body poses (body -> world) for pelvis pose `pelvis` and coordinates `q` (rad).
    pub fn forward_kinematics(&self, pelvis: &Iso, q: &[f64; coord::COUNT]) -> [Iso; body::COUNT] {
        let mut poses = [Iso::identity(); body::COUNT];
        poses[body::PELVIS] = *pelvis;
        // Joints are listed parent-before-child within each chain.
        for j in &self.joints {
            let n = j.ncoords();
            let r = j.rotation(&q[j.first_coord..j.first_coord + n]);
            let local = Iso::from_parts(j.location_in_parent_m.into(), r);
            poses[j.child] = poses[j.parent] * local;
        }
        poses
    }

    /// Coordinates (rad) of the relative rotations between bodies at `poses`.
    pub fn coordinates(&self, poses: &[Iso; body::COUNT]) -> [f64; coord::COUNT] {
        let mut q = [0.0; coord::COUNT];
        for j in &self.joints {
            let rel = poses[j.parent].rotation.inverse() * poses[j.child].rotation;
            let c = j.coords_of(&rel);
            q[j.first_coord..j.first_coord + j.ncoords()].copy_from_slice(&c[..j.ncoords()]);
        }
        q
    }

    /// Names of the landmarks returned by [`Model::landmarks`], in order.
    pub const LANDMARK_NAMES: [&'static str; 14] = [
        "neck",
        "asis_r",
        "asis_l",
        "hip_r",
        "hip_l",
        "knee_r",
        "knee_l",
        "ankle_r",
        "ankle_l",
        "toe_r",
        "toe_l",
        "com",
        "glut_med_origin",
        "glut_med_insertion",
    ];

    /// Anatomical landmarks in the world frame (m) at body poses `poses` and coordinates
    /// `q`, for figures drawn from recorded outputs: the joint centres; the ASIS; `neck`,
    /// a point 0.50 m (scaled) above the lumbar joint on the trunk's long axis, roughly C7
    /// (gait2392 has no head or shoulder segment); `toe`, the gait2392 MTP joint centre;
    /// the whole-body centre of mass; and the first and last path points of the middle
    /// gluteus medius compartment (`glut_med2`) on the `stance` side.
    pub fn landmarks(
        &self,
        poses: &[Iso; body::COUNT],
        q: &[f64; coord::COUNT],
        stance: Side,
    ) -> [Vec3; 14] {
        let s = self.length_scale;
        let at = |b: usize, p: Vec3| (poses[b] * nalgebra::Point3::from(p)).coords;
        let joint = |name: &str| {
            let j = self
                .joints
                .iter()
                .find(|j| j.name == name)
                .expect("gait2392 joint");
            at(j.parent, j.location_in_parent_m)
        };
        let a = self.asis_r_m;
        let mtp = MTP_IN_FOOT_M * s;
        let mut com = Vec3::zeros();
        for (i, b) in self.bodies.iter().enumerate() {
            com += b.mass_kg * at(i, b.com_m);
        }
        com /= self.mass_kg();
        let gm = self
            .muscle_index(&format!("glut_med2_{}", stance.suffix()))
            .expect("glut_med2");
        let path = self.path_points(gm, poses, q);
        [
            at(body::TORSO, Vec3::new(0.0, 0.50 * s, 0.0)),
            at(body::PELVIS, a),
            at(body::PELVIS, mirror_point(a)),
            joint("hip_r"),
            joint("hip_l"),
            joint("knee_r"),
            joint("knee_l"),
            joint("ankle_r"),
            joint("ankle_l"),
            at(body::FOOT_R, mtp),
            at(leg_body(Side::Left, body::FOOT_R), mirror_point(mtp)),
            com,
            path[0].1,
            path[path.len() - 1].1,
        ]
    }

    /// Muscle index by full name.
    pub fn muscle_index(&self, name: &str) -> Option<usize> {
        self.muscles.iter().position(|m| m.name == name)
    }
}

/// Product of all strength factors that name `base` (directly, by group, by `all`),
/// on both sides or on `side` only (keys ending `_r`/`_l`).
fn strength_factor(
    strength: &BTreeMap<String, f64>,
    groups: &BTreeMap<String, Vec<String>>,
    base: &str,
    side: Side,
) -> f64 {
    let mut f = 1.0;
    for (key, v) in strength {
        let (k, only) = if let Some(k) = key.strip_suffix("_r") {
            (k, Some(Side::Right))
        } else if let Some(k) = key.strip_suffix("_l") {
            (k, Some(Side::Left))
        } else {
            (key.as_str(), None)
        };
        if only.is_some_and(|s| s != side) {
            continue;
        }
        let hit =
            k == "all" || k == base || groups.get(k).is_some_and(|g| g.iter().any(|m| m == base));
        if hit {
            f *= v;
        }
    }
    f
}

/// Rotation helper re-exported for the simulation: Cardan composition.
pub fn cardan(a: [f64; 3]) -> Quat {
    from_cardan_zxy(a)
}

impl Model {
    /// Path of muscle `m` at body poses `poses` and coordinates `q`: world points of the
    /// active path points, with their body index.
    pub fn path_points(
        &self,
        m: usize,
        poses: &[Iso; body::COUNT],
        q: &[f64; coord::COUNT],
    ) -> Vec<(usize, Vec3)> {
        self.muscles[m]
            .points
            .iter()
            .filter(|p| p.active(q))
            .map(|p| {
                (
                    p.body,
                    (poses[p.body] * nalgebra::Point3::from(p.local(q))).coords,
                )
            })
            .collect()
    }

    /// Musculotendon length of muscle `m` (m) at coordinates `q` (the pelvis pose does not matter).
    pub fn path_length(&self, m: usize, q: &[f64; coord::COUNT]) -> f64 {
        let poses = self.forward_kinematics(&Iso::identity(), q);
        let pts = self.path_points(m, &poses, q);
        pts.windows(2).map(|w| (w[1].1 - w[0].1).norm()).sum()
    }

    /// Moment arm of muscle `m` about coordinate `k` (m): `-dL/dq`, by central differences
    /// of the path length (step 1e-6 rad).
    pub fn moment_arm(&self, m: usize, k: usize, q: &[f64; coord::COUNT]) -> f64 {
        let h = 1e-6;
        let mut qp = *q;
        let mut qm = *q;
        qp[k] += h;
        qm[k] -= h;
        -(self.path_length(m, &qp) - self.path_length(m, &qm)) / (2.0 * h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic() -> Model {
        Model::gait2392(Subject::GENERIC, &BTreeMap::new()).unwrap()
    }

    #[test]
    fn builds_full_muscle_set_and_mass() {
        let m = generic();
        assert_eq!(m.muscles.len(), 92);
        assert!((m.mass_kg() - GENERIC_MASS_KG).abs() < 1e-3);
    }

    #[test]
    fn fk_and_coordinates_round_trip() {
        let m = generic();
        let mut q = [0.0; coord::COUNT];
        for (i, v) in q.iter_mut().enumerate() {
            *v = 0.05 * (i as f64 + 1.0) * if i % 2 == 0 { 1.0 } else { -1.0 };
        }
        let poses = m.forward_kinematics(&Iso::identity(), &q);
        let back = m.coordinates(&poses);
        for i in 0..coord::COUNT {
            assert!(
                (q[i] - back[i]).abs() < 1e-10,
                "coord {i}: {} vs {}",
                q[i],
                back[i]
            );
        }
    }

    #[test]
    fn left_hip_adduction_moves_the_femur_medially() {
        let m = generic();
        let mut q = [0.0; coord::COUNT];
        q[leg_coord(Side::Left, coord::HIP_ADDUCTION)] = 0.2;
        q[leg_coord(Side::Right, coord::HIP_ADDUCTION)] = 0.2;
        let p = m.forward_kinematics(&Iso::identity(), &q);
        let knee_l = p[leg_body(Side::Left, body::TIBIA_R)].translation.vector;
        let knee_r = p[leg_body(Side::Right, body::TIBIA_R)].translation.vector;
        assert!(
            knee_l.z > -0.0835 + 0.05,
            "left knee should move toward +z (medial): {}",
            knee_l.z
        );
        assert!(knee_r.z < 0.0835 - 0.05);
    }

    #[test]
    fn strength_factors_multiply_and_respect_sides() {
        let mut s = BTreeMap::new();
        s.insert("hip_abductors".to_string(), 0.5);
        s.insert("glut_med1_r".to_string(), 0.5);
        let m = Model::gait2392(Subject::GENERIC, &s).unwrap();
        let f = |n: &str| {
            m.muscles[m.muscle_index(n).unwrap()]
                .params
                .max_isometric_force_n
        };
        assert!((f("glut_med1_r") - 819.0 * 0.25).abs() < 1e-9);
        assert!((f("glut_med1_l") - 819.0 * 0.5).abs() < 1e-9);
        assert!((f("glut_max1_r") - 573.0).abs() < 1e-9);
        s.insert("not_a_muscle".to_string(), 1.0);
        assert!(Model::gait2392(Subject::GENERIC, &s).is_err());
    }
}
