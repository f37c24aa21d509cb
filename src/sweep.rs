//! Sweeps: expand a loaded scenario's `[sweep]` into runs, each with a stable id
//! derived from its parameters.
//!
//! Axes are taken in alphabetical order of their key. `grid` varies the last axis
//! fastest; `zip` needs axes of equal length; `one_at_a_time` varies each axis alone
//! with the others at their base value; `random` and `latin_hypercube` draw
//! `sweep.samples` runs with `sweep.seed` (SplitMix64, so the same seed gives the same
//! runs on every machine and version). Drawn values are rounded to 6 decimals.

use crate::scenario::{
    check_value, cross_check, from_flat, spec_for, Kind, Loaded, Origin, Problem, Scenario,
    ScenarioError,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Most runs a sweep may expand to.
pub const MAX_RUNS: usize = 100_000;

/// One run of a sweep.
#[derive(Debug, Clone)]
pub struct Run {
    /// Position in the sweep (0-based).
    pub index: usize,
    /// Stable id: `r<index>_<first 8 hex digits of sha256 of the canonical parameters>`.
    pub id: String,
    /// Swept keys and their values in this run (axis order).
    pub params: Vec<(String, toml::Value)>,
    /// Every plain key's value in this run.
    pub flat: BTreeMap<String, toml::Value>,
    /// Typed scenario.
    pub scenario: Scenario,
}

/// Canonical text of a value: TOML, with floats in shortest round-trip form.
pub fn canon(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => format!("{f}"),
        o => o.to_string(),
    }
}

/// The id of a run with `params` at `index`.
pub fn run_id(index: usize, params: &[(String, toml::Value)]) -> String {
    let mut h = Sha256::new();
    for (k, v) in params {
        h.update(format!("{k}={}\n", canon(v)).as_bytes());
    }
    let d = h.finalize();
    let hex: String = d.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("r{index:04}_{hex}")
}

/// SplitMix64: a small, fully specified generator.
struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (x * p).round() / p
}

fn num(t: &toml::Table, k: &str) -> f64 {
    match t.get(k) {
        Some(toml::Value::Float(f)) => *f,
        Some(toml::Value::Integer(i)) => *i as f64,
        _ => 0.0,
    }
}

/// Fixed values of an axis (list or range); `None` for a distribution.
fn axis_values(v: &toml::Value) -> Option<Vec<toml::Value>> {
    match v {
        toml::Value::Array(a) => Some(a.clone()),
        toml::Value::Table(t) if t.contains_key("start") => {
            let (a, b) = (num(t, "start"), num(t, "stop"));
            let n = t.get("count").and_then(|c| c.as_integer()).unwrap_or(1) as usize;
            Some(
                (0..n)
                    .map(|i| {
                        let x = if n == 1 {
                            a
                        } else {
                            a + (b - a) * i as f64 / (n - 1) as f64
                        };
                        toml::Value::Float(crate::output::round_sig(x, 12))
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// A value for an int key is stored as an integer.
fn typed(key: &str, v: toml::Value) -> toml::Value {
    match (spec_for(key).map(|s| s.kind), &v) {
        (Some(Kind::Int), toml::Value::Float(f)) => toml::Value::Integer(f.round() as i64),
        _ => v,
    }
}

/// Draw one value of a distribution axis; `u` is a uniform number in [0, 1) (its stratum for LHS).
fn draw(t: &toml::Table, u: f64, rng: &mut Rng) -> f64 {
    let (lo, hi) = (num(t, "min"), num(t, "max"));
    if t.get("distribution").and_then(|d| d.as_str()) == Some("normal") {
        let (m, sd) = (num(t, "mean"), num(t, "sd"));
        for _ in 0..10000 {
            let x = m + sd * rng.normal();
            if x >= lo && x <= hi {
                return round(x, 6);
            }
        }
        return round(m.clamp(lo, hi), 6);
    }
    round(lo + (hi - lo) * u, 6)
}

/// Expand the sweep of `l` into runs; every run's scenario is checked, with problems
/// reported at the sweep key's file and line.
pub fn expand(l: &Loaded) -> Result<Vec<Run>, ScenarioError> {
    let axes: Vec<(String, toml::Value)> = l
        .sweep
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("sweep.axes.")
                .map(|a| (a.to_string(), v.clone()))
        })
        .collect();
    let mode = l
        .sweep
        .get("sweep.mode")
        .and_then(|v| v.as_str())
        .unwrap_or("grid")
        .to_string();
    let samples = l
        .sweep
        .get("sweep.samples")
        .and_then(|v| v.as_integer())
        .unwrap_or(10) as usize;
    let seed = l
        .sweep
        .get("sweep.seed")
        .and_then(|v| v.as_integer())
        .unwrap_or(1) as u64;
    let origin = |k: &str| {
        l.origins.get(k).cloned().unwrap_or(Origin {
            file: l.path.display().to_string(),
            line: 0,
        })
    };
    let fail = |key: &str, msg: String| ScenarioError {
        problems: vec![Problem {
            origin: origin(key),
            msg,
        }],
    };
    let mut combos: Vec<Vec<(String, toml::Value)>> = Vec::new();
    let fixed: Vec<Option<Vec<toml::Value>>> = axes.iter().map(|(_, v)| axis_values(v)).collect();
    if axes.is_empty() {
        combos.push(vec![]);
    } else {
        match mode.as_str() {
            "grid" | "zip" | "one_at_a_time" => {
                for (i, f) in fixed.iter().enumerate() {
                    if f.is_none() {
                        let k = format!("sweep.axes.{}", axes[i].0);
                        return Err(fail(&k, format!("sweep.axes.\"{}\": {{min, max}} draws values only in random and latin_hypercube modes; use a list or {{start, stop, count}} with sweep.mode = \"{mode}\"", axes[i].0)));
                    }
                }
                let vals: Vec<&Vec<toml::Value>> =
                    fixed.iter().map(|f| f.as_ref().unwrap()).collect();
                // Refuse a sweep too large to expand before expanding it (a grid of a few
                // 100000-value ranges would otherwise overflow or exhaust memory).
                let lens: Vec<usize> = vals.iter().map(|v| v.len()).collect();
                let total = match mode.as_str() {
                    "grid" => lens.iter().try_fold(1usize, |a, n| a.checked_mul(*n)),
                    "zip" => lens.first().copied(),
                    _ => lens.iter().try_fold(0usize, |a, n| a.checked_add(*n)),
                };
                if total.is_none_or(|t| t > MAX_RUNS) {
                    let k = format!("sweep.axes.{}", axes[0].0);
                    let sizes: Vec<String> = lens.iter().map(|n| n.to_string()).collect();
                    let sep = if mode == "grid" { " x " } else { " + " };
                    return Err(fail(&k, format!("sweep.axes: {mode} of {} values = {} runs: allowed at most {MAX_RUNS} runs", sizes.join(sep), total.map(|t| t.to_string()).unwrap_or_else(|| "too many".into()))));
                }
                match mode.as_str() {
                    "grid" => {
                        let total: usize = vals.iter().map(|v| v.len()).product();
                        for mut n in 0..total {
                            let mut c =
                                vec![(String::new(), toml::Value::Boolean(false)); axes.len()];
                            for a in (0..axes.len()).rev() {
                                let len = vals[a].len();
                                c[a] = (axes[a].0.clone(), vals[a][n % len].clone());
                                n /= len;
                            }
                            combos.push(c);
                        }
                    }
                    "zip" => {
                        let len = vals[0].len();
                        for (a, v) in vals.iter().enumerate() {
                            if v.len() != len {
                                let k = format!("sweep.axes.{}", axes[a].0);
                                return Err(fail(&k, format!("sweep.axes.\"{}\" has {} values but sweep.axes.\"{}\" has {len}: zip needs axes of equal length", axes[a].0, v.len(), axes[0].0)));
                            }
                        }
                        combos.extend((0..len).map(|i| {
                            axes.iter()
                                .zip(&vals)
                                .map(|((k, _), v)| (k.clone(), v[i].clone()))
                                .collect::<Vec<_>>()
                        }));
                    }
                    _ => {
                        for (a, v) in vals.iter().enumerate() {
                            for x in v.iter() {
                                combos.push(vec![(axes[a].0.clone(), x.clone())]);
                            }
                        }
                    }
                }
            }
            _ => {
                // random / latin_hypercube
                let mut rng = Rng(seed);
                let lhs = mode == "latin_hypercube";
                // For LHS: a random permutation of strata per axis.
                let perms: Vec<Vec<usize>> = axes
                    .iter()
                    .map(|_| {
                        let mut p: Vec<usize> = (0..samples).collect();
                        for i in (1..samples).rev() {
                            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                            p.swap(i, j);
                        }
                        p
                    })
                    .collect();
                for (a, (k, v)) in axes.iter().enumerate() {
                    let what = if v.is_array() {
                        Some("a list")
                    } else if fixed[a].is_some() {
                        Some("a range {start, stop, count}")
                    } else if v.get("distribution").and_then(|d| d.as_str()) == Some("normal") {
                        Some("a normal distribution")
                    } else {
                        None
                    };
                    if let (true, Some(what)) = (lhs, what) {
                        let key = format!("sweep.axes.{k}");
                        return Err(fail(&key, format!("{}: this axis is {what}; latin_hypercube splits every axis into sweep.samples equal strata of a uniform range, so it allows only {{min, max}} (uniform) axes; for lists, ranges and normal distributions use sweep.mode = \"random\"", crate::scenario::axis_name(k))));
                    }
                }
                let n = samples;
                #[allow(clippy::needless_range_loop)] // `s` indexes the strata of every axis
                for s in 0..n {
                    let mut c = Vec::new();
                    for (a, (k, v)) in axes.iter().enumerate() {
                        let x = match (&fixed[a], v) {
                            (Some(list), _) => {
                                list[(rng.next_u64() % list.len() as u64) as usize].clone()
                            }
                            (None, toml::Value::Table(t)) => {
                                let u = if lhs {
                                    (perms[a][s] as f64 + rng.uniform()) / n as f64
                                } else {
                                    rng.uniform()
                                };
                                toml::Value::Float(draw(t, u, &mut rng))
                            }
                            _ => unreachable!("axes were checked"),
                        };
                        c.push((k.clone(), x));
                    }
                    combos.push(c);
                }
            }
        }
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for combo in combos {
        let params: Vec<(String, toml::Value)> = combo
            .into_iter()
            .map(|(k, v)| {
                let v = typed(&k, v);
                (k, v)
            })
            .collect();
        let mut flat = l.base.clone();
        for (k, v) in &params {
            match spec_for(k).map(|s| check_value(&s, k, v)) {
                Some(Ok(v)) => {
                    flat.insert(k.clone(), v);
                }
                Some(Err(m)) => {
                    let p = Problem {
                        origin: origin(&format!("sweep.axes.{k}")),
                        msg: m,
                    };
                    if !problems.contains(&p) {
                        problems.push(p);
                    }
                }
                None => {}
            }
        }
        // The same simulation twice (the same parameters, or the base reached through
        // several axes by one_at_a_time): run it once, under its first parameters.
        // Strength factors multiply, so a factor of 1 is the same as none.
        let effective: Vec<String> = flat
            .iter()
            .filter(|(k, v)| {
                !(k.starts_with("strength.")
                    && v.as_float().or(v.as_integer().map(|i| i as f64)) == Some(1.0))
            })
            .map(|(k, v)| format!("{k}={}", canon(v)))
            .collect();
        if !seen.insert(effective) {
            continue;
        }
        match from_flat(&flat) {
            Ok(mut sc) => {
                crate::scenario::adapt_defaults(&mut sc, |k| {
                    l.origins.contains_key(k) || params.iter().any(|(p, _)| p == k)
                });
                for (k, m) in cross_check(&sc) {
                    let axis = format!("sweep.axes.{k}");
                    let o = if l.origins.contains_key(&axis) {
                        origin(&axis)
                    } else {
                        origin(k)
                    };
                    let p = Problem { origin: o, msg: m };
                    if !problems.contains(&p) {
                        problems.push(p);
                    }
                }
                let index = runs.len();
                // The id hashes the swept values and the `--set` overrides, so that
                // runs of the same file with different overrides get different ids.
                let mut id_params = params.clone();
                for k in &l.set_keys {
                    if crate::runner::NOT_PARAMETERS.contains(&k.as_str()) {
                        continue;
                    }
                    if let Some(v) = flat.get(k) {
                        if !id_params.iter().any(|(p, _)| p == k) {
                            id_params.push((k.clone(), v.clone()));
                        }
                    }
                }
                runs.push(Run {
                    index,
                    id: run_id(index, &id_params),
                    params,
                    flat,
                    scenario: sc,
                });
            }
            Err(m) => problems.push(Problem {
                origin: origin(""),
                msg: m,
            }),
        }
    }
    if problems.is_empty() {
        Ok(runs)
    } else {
        Err(ScenarioError { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_fixed() {
        let mut r = Rng(1);
        let a = r.next_u64();
        assert_eq!(a, 0x910a2dec89025cc1);
    }

    #[test]
    fn ids_depend_on_params_only() {
        let p = vec![(
            "strength.hip_abductors".to_string(),
            toml::Value::Float(0.5),
        )];
        assert_eq!(run_id(3, &p), run_id(3, &p.clone()));
        let q = vec![(
            "strength.hip_abductors".to_string(),
            toml::Value::Float(0.4),
        )];
        assert_ne!(run_id(3, &p)[6..], run_id(3, &q)[6..]);
    }
}
