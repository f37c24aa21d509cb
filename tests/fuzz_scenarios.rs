//! Scenario fuzzing: random and mutated scenario files and `--set` strings fed to the
//! loader and the sweep expansion (`scenario::load` then `sweep::expand`, the library
//! functions behind `hipdrop run` and `hipdrop check`).
//!
//! Property: nothing panics, and every rejection is a [`ScenarioError`] whose every
//! problem *names a key path* (see [`names_a_key_path`]), or for a file that is not TOML
//! (or cannot be read) names the file and, for a syntax error, the line.
//!
//! The seeds are every shipped scenario and every fixture; the mutations delete and
//! duplicate lines, replace values by random TOML values of random types, insert random
//! keys (real keys, near-misses of real keys, muscle names, garbage), section headers,
//! sweep tables with random axes, `include`s of random paths (existing files, missing
//! files, directories, the file itself), raw garbage bytes (invalid UTF-8 included) and
//! truncate the file; up to five random `--set` strings are added.
//!
//! A third property sweeps real, sweepable keys with values around their ranges over
//! the valid files, so that many cases reach the sweep expansion and cross-key checks.
//!
//! Case count: 2000 mutated files, 1000 `--set` lists and 1000 sweeps in CI (a fixed
//! seed, so CI always runs the same cases);
//! `PROPTEST_CASES=100000` runs more, `HIPDROP_FUZZ_SEED=<u64>` draws other cases.
//! The number of cases run is printed (`cargo test --test fuzz_scenarios -- --nocapture`).

use hipdrop::scenario::{self, Problem, ScenarioError};
use hipdrop::sweep;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every shipped scenario and fixture: (file name, bytes).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v = Vec::new();
    for d in ["scenarios", "tests/fixtures"] {
        for e in std::fs::read_dir(root.join(d)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                v.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    v.sort();
    v
}

/// A temporary directory holding a copy of every corpus file (include targets).
fn workdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hipdrop-fuzz-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("sub")).unwrap();
    for (n, b) in corpus() {
        std::fs::write(d.join(&n), b).unwrap();
    }
    d
}

// ---------------------------------------------------------------------------------
// What "names a key path" means.

/// Length of a key path at the start of `s`: segments separated by `.`, each a bare key
/// (`[A-Za-z0-9_-]+`) or a quoted one (a TOML basic string, `"..."` with `\"` escapes).
fn key_path_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            // A TOML basic string: up to the first `"` not escaped by `\`.
            i += 1;
            loop {
                match b.get(i)? {
                    b'\\' => i += 2,
                    b'"' => break,
                    _ => i += 1,
                }
            }
            i += 1;
        } else {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(|c| *c != b' ') {
            i += 1;
        } else {
            return Some(i);
        }
    }
}

/// A problem names a key path when its message has one of these forms:
///
/// 1. `<key path><sep>...` with `<sep>` one of ` = ` (`subject.mass_kg = 300.0: allowed
///    30 to 200 kg`), `: ` (`sweep.axes."x": ...`) or ` has ` (zip lengths); the key path
///    is dotted (`section.key`, `sweep.axes."<key>".<field>`) or one of the top-level keys
///    `name` and `include` (`include cycle: ...` also counts for `include`);
/// 2. ``unknown key `<key path>`...``, the key as written when it is a dotted path of bare
///    keys, else quoted as one TOML string (`` `"task..x"` ``; an empty key is `` `""` ``);
/// 3. file level, for a file that cannot be used at all: `not valid TOML: ...` at
///    `<file>:<line>` with a line, `cannot read: ...` at `<file>`, or
///    `the file has no keys: ...` at `<file>` (a scenario without any key);
/// 4. a `--set` argument without a key: `expected KEY=VALUE ...` at `--set`.
///
/// and its origin names a file (or `--set`).
pub fn names_a_key_path(p: &Problem) -> bool {
    let m = p.msg.as_str();
    if p.origin.file.is_empty() {
        return false;
    }
    let is_set = p.origin.file == "--set";
    if let Some(rest) = m.strip_prefix("unknown key `") {
        return key_path_len(rest).is_some_and(|n| rest[n..].starts_with('`'));
    }
    if m.starts_with("not valid TOML: ") {
        return !is_set && p.origin.line >= 1;
    }
    if m.starts_with("cannot read: ") {
        return !is_set;
    }
    if m == scenario::EMPTY_FILE {
        return !is_set;
    }
    if m.starts_with("expected KEY=VALUE") {
        return is_set;
    }
    if m.starts_with("include cycle: ") {
        return !is_set;
    }
    let Some(n) = key_path_len(m) else {
        return false;
    };
    let path = &m[..n];
    let rest = &m[n..];
    let sep = [" = ", ": ", " has "].iter().any(|s| rest.starts_with(s));
    let dotted = path.contains('.') || path == "name" || path == "include";
    sep && dotted
}

// ---------------------------------------------------------------------------------
// Generators.

fn real_keys() -> Vec<String> {
    let mut v: Vec<String> = scenario::keys()
        .iter()
        .filter(|k| !k.name.contains('<'))
        .map(|k| k.name.to_string())
        .collect();
    for n in [
        "hip_abductors",
        "glut_med1",
        "glut_med2_r",
        "glut_min3_l",
        "gluteus_medius",
        "gluteus_minimus",
        "all",
        "tfl",
        "add_long_r",
    ] {
        v.push(format!("strength.{n}"));
    }
    v
}

/// A key: real, a near-miss of a real one (one edit), a family member or garbage.
fn key() -> impl Strategy<Value = String> {
    let real = real_keys();
    let r2 = real.clone();
    prop_oneof![
        4 => proptest::sample::select(real),
        3 => (proptest::sample::select(r2), any::<usize>(), any::<char>(), 0..5u8).prop_map(
            |(k, i, c, op)| {
                let mut ch: Vec<char> = k.chars().collect();
                let i = i % ch.len();
                match op {
                    0 => {
                        ch.remove(i);
                    }
                    1 => ch.insert(i, c),
                    2 => ch[i] = c,
                    3 if i + 1 < ch.len() => ch.swap(i, i + 1),
                    _ => ch[i] = ch[i].to_ascii_uppercase(),
                }
                ch.into_iter().collect()
            }
        ),
        1 => proptest::sample::select(vec![
            "strength", "sweep", "sweep.axes", "subject", "task", "", ".", "a..b",
            "sweep.axes.", "sweep.axes.strength.hip_abductors", "strength.",
            "strength._r", "sweep.mode.x", "task.duration_s.x", "name", "include",
            "sweep.axes.sweep.mode", "sweep.axes.model.muscle_set", "sweep.axes.name",
        ])
        .prop_map(String::from),
        1 => proptest::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect()),
    ]
}

/// TOML text of a key in a `key = value` line: bare when it can be, quoted otherwise.
fn toml_key(k: &str, dotted: bool) -> String {
    let bare = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if (dotted && k.split('.').all(bare)) || bare(k) {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..25).prop_map(|i| i.to_string()),
        proptest::sample::select(vec![
            "0",
            "-0",
            "1",
            "16",
            "17",
            "30",
            "200",
            "201",
            "100001",
            "9007199254740991",
            "9007199254740992",
            "9223372036854775807",
            "-9223372036854775808",
            "0x10",
            "0.0",
            "-0.0",
            "0.5",
            "1e-4",
            "5e-3",
            "5.0001e-3",
            "1e-300",
            "1e308",
            "1.7976931348623157e308",
            "nan",
            "+nan",
            "-nan",
            "inf",
            "+inf",
            "-inf",
            "1_000",
            "0.1e-3",
            "2.5",
        ])
        .prop_map(String::from),
        any::<f64>().prop_map(|f| toml::Value::Float(f).to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
    ]
}

fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "left",
            "right",
            "both",
            "grid",
            "zip",
            "one_at_a_time",
            "random",
            "latin_hypercube",
            "gait2392",
            "normal",
            "uniform",
            "",
            "yes",
        ])
        .prop_map(|s| format!("\"{s}\"")),
        proptest::collection::vec(any::<char>(), 0..10)
            .prop_map(|c| toml::Value::String(c.into_iter().collect()).to_string()),
        Just("'''multi\nline'''".to_string()),
    ]
}

/// TOML text of a random value of a random type.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => number(),
        2 => string_value(),
        1 => proptest::sample::select(vec!["true", "false"]).prop_map(String::from),
        1 => proptest::sample::select(vec![
            "1979-05-27T07:32:00Z", "1979-05-27", "07:32:00", "1979-05-27T00:32:00.999999-07:00",
        ])
        .prop_map(String::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| format!("[{}]", v.join(", "))),
            proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "start",
                        "stop",
                        "count",
                        "min",
                        "max",
                        "distribution",
                        "mean",
                        "sd",
                        "strat",
                        "x",
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|v| {
                let mut seen = std::collections::BTreeSet::new();
                let f: Vec<String> = v
                    .into_iter()
                    .filter(|(k, _)| seen.insert(*k))
                    .map(|(k, x)| format!("{k} = {x}"))
                    .collect();
                format!("{{ {} }}", f.join(", "))
            }),
        ]
    })
}

/// A sweep axis value: a list, a range, a distribution, or anything.
fn axis_value() -> impl Strategy<Value = String> {
    let small = || prop_oneof![(-2i64..12).prop_map(|i| i.to_string()), number()];
    prop_oneof![
        proptest::collection::vec(small(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        (small(), small(), -1i64..8)
            .prop_map(|(a, b, n)| format!("{{ start = {a}, stop = {b}, count = {n} }}")),
        (small(), small()).prop_map(|(a, b)| format!("{{ min = {a}, max = {b} }}")),
        (small(), small(), small(), small()).prop_map(|(a, b, m, s)| format!(
            "{{ min = {a}, max = {b}, distribution = \"normal\", mean = {m}, sd = {s} }}"
        )),
        value(),
    ]
}

fn include_path() -> impl Strategy<Value = String> {
    let names: Vec<String> = corpus().into_iter().map(|(n, _)| n).collect();
    prop_oneof![
        3 => proptest::sample::select(names),
        1 => proptest::sample::select(vec![
            "case.toml", "no_such.toml", "", ".", "..", "sub", "sub/../base_weak.toml",
            "./variant.toml", "../nope/x.toml", "a\u{0}b.toml", "sub/missing.toml",
        ])
        .prop_map(String::from),
    ]
}

/// A line (or a few) to insert.
fn inserted_line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (key(), any::<bool>(), value())
            .prop_map(|(k, d, v)| format!("{} = {v}", toml_key(&k, d))),
        2 => proptest::sample::select(vec![
            "[subject]", "[task]", "[model]", "[controller]", "[integration]", "[output]",
            "[strength]", "[sweep]", "[sweep.axes]", "[sweep.axes.strength]", "[subjet]",
            "[[sweep]]", "[strength.hip_abductors]", "[]", "[sweep.axes.\"task.duration_s\"]",
        ])
        .prop_map(String::from),
        2 => proptest::collection::vec(include_path(), 0..3).prop_map(|v| {
            let v: Vec<String> = v.iter().map(|p| toml::Value::String(p.clone()).to_string()).collect();
            format!("include = [{}]", v.join(", "))
        }),
        1 => (include_path()).prop_map(|p| format!("include = {}", toml::Value::String(p))),
        3 => sweep_table(),
    ]
}

/// A `[sweep]` table with random mode, samples, seed and axes.
fn sweep_table() -> impl Strategy<Value = String> {
    let mode = prop_oneof![
        proptest::sample::select(sweep_modes()).prop_map(|m| format!("\"{m}\"")),
        value(),
    ];
    (
        proptest::option::of(mode),
        proptest::option::of(prop_oneof![
            (0i64..30).prop_map(|i| i.to_string()),
            number()
        ]),
        proptest::option::of(number()),
        proptest::collection::vec((key(), axis_value()), 0..4),
    )
        .prop_map(|(mode, samples, seed, axes)| {
            let mut s = String::from("[sweep]\n");
            if let Some(m) = mode {
                s.push_str(&format!("mode = {m}\n"));
            }
            if let Some(n) = samples {
                s.push_str(&format!("samples = {n}\n"));
            }
            if let Some(n) = seed {
                s.push_str(&format!("seed = {n}\n"));
            }
            s.push_str("[sweep.axes]\n");
            let mut seen = std::collections::BTreeSet::new();
            for (k, v) in axes {
                if seen.insert(k.clone()) {
                    s.push_str(&format!("{} = {v}\n", toml::Value::String(k)));
                }
            }
            s
        })
}

fn sweep_modes() -> Vec<&'static str> {
    scenario::SWEEP_MODES.to_vec()
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceValue(usize, String),
    Insert(usize, String),
    Garbage(usize, Vec<u8>),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        4 => (any::<usize>(), value()).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        4 => (any::<usize>(), inserted_line()).prop_map(|(i, l)| Mutation::Insert(i, l)),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Garbage(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(seed: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = seed.split(|b| *b == b'\n').map(|l| l.to_vec()).collect();
    for m in muts {
        let n = lines.len().max(1);
        match m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::ReplaceValue(i, v) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                match l.iter().position(|b| *b == b'=') {
                    Some(p) => {
                        l.truncate(p + 1);
                        l.push(b' ');
                    }
                    None => l.extend_from_slice(b" = "),
                }
                l.extend_from_slice(v.as_bytes());
            }
            Mutation::Insert(i, text) => {
                lines.insert(i % (lines.len() + 1), text.as_bytes().to_vec());
            }
            Mutation::Garbage(i, bytes) => {
                let mut all = lines.join(&b'\n');
                let at = i % (all.len() + 1);
                all.splice(at..at, bytes.iter().copied());
                lines = all.split(|b| *b == b'\n').map(|l| l.to_vec()).collect();
            }
            Mutation::Truncate(i) => {
                let mut all = lines.join(&b'\n');
                all.truncate(i % (all.len() + 1));
                lines = all.split(|b| *b == b'\n').map(|l| l.to_vec()).collect();
            }
            _ => {}
        }
    }
    lines.join(&b'\n')
}

/// A `--set` argument.
fn set_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (key(), value()).prop_map(|(k, v)| format!("{k}={v}")),
        2 => (key(), axis_value()).prop_map(|(k, v)| format!("sweep.axes.{k}={v}")),
        1 => key(),
        1 => value().prop_map(|v| format!("={v}")),
        1 => (key(), value()).prop_map(|(k, v)| format!(" {k} = {v} ")),
        1 => proptest::collection::vec(include_path(), 0..2)
            .prop_map(|v| format!("include={v:?}")),
        1 => proptest::collection::vec(any::<char>(), 0..16).prop_map(|c| c.into_iter().collect()),
        1 => proptest::sample::select(vec![
            "sweep.mode=\"random\"", "sweep.mode=\"latin_hypercube\"", "sweep.mode=\"zip\"",
            "sweep.mode=\"one_at_a_time\"", "sweep.samples=3", "sweep.seed=7",
            "integration.dt_s=0.005", "controller.control_period_s=0.0001",
            "output.steady_window_s=600", "task.duration_s=0.01",
            "output.timeseries=false", "output.timeseries=true", "output.timeseries=0",
            "sweep.axes.output.timeseries=[true, false]",
        ])
        .prop_map(String::from),
    ]
}

// ---------------------------------------------------------------------------------
// The property.

/// Load and expand `file` with `sets`: must not panic; an error must name key paths;
/// a success must be usable by the CLI (the base scenario builds, every run is consistent).
fn check(file: &Path, sets: &[String]) -> Result<usize, String> {
    match scenario::load(file, sets).and_then(|l| sweep::expand(&l).map(|r| (l, r))) {
        Ok((l, runs)) => {
            scenario::from_flat(&l.base).map_err(|e| format!("base does not build: {e}"))?;
            if runs.is_empty() {
                return Err("no runs".into());
            }
            for r in &runs {
                let cc = scenario::cross_check(&r.scenario);
                if !cc.is_empty() {
                    return Err(format!("run {} is inconsistent: {cc:?}", r.id));
                }
            }
            Ok(runs.len())
        }
        Err(ScenarioError { problems }) => {
            if problems.is_empty() {
                return Err("an error without problems".into());
            }
            for p in &problems {
                if !names_a_key_path(p) {
                    return Err(format!(
                        "problem does not name a key path: {}: {:?}",
                        p.origin, p.msg
                    ));
                }
            }
            Ok(0)
        }
    }
}

fn config() -> (Config, TestRng) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let cfg = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let rng = match std::env::var("HIPDROP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(s) => {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&s.to_le_bytes());
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed)
        }
        None => TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    };
    (cfg, rng)
}

#[test]
fn fuzzed_scenarios_never_panic_and_every_rejection_names_a_key_path() {
    let dir = workdir("mutated");
    let case = dir.join("case.toml");
    let seeds = corpus();
    let (cfg, rng) = config();
    let wanted = cfg.cases;
    let mut runner = TestRunner::new_with_rng(cfg, rng);
    let ran = AtomicUsize::new(0);
    let accepted = AtomicUsize::new(0);
    let strategy = (
        0..seeds.len(),
        proptest::collection::vec(mutation(), 0..6),
        proptest::collection::vec(set_arg(), 0..5),
    );
    let started = std::time::Instant::now();
    let res = runner.run(&strategy, |(s, muts, sets)| {
        ran.fetch_add(1, Ordering::Relaxed);
        std::fs::write(&case, apply(&seeds[s].1, &muts)).unwrap();
        match check(&case, &sets) {
            Ok(n) => {
                if n > 0 {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(e) => Err(TestCaseError::fail(format!(
                "{e}\nfile:\n{}\n--set {sets:?}",
                String::from_utf8_lossy(&std::fs::read(&case).unwrap())
            ))),
        }
    });
    eprintln!(
        "fuzz: {} cases ({} wanted, incl. shrinking), {} accepted, {:.1} s",
        ran.load(Ordering::Relaxed),
        wanted,
        accepted.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = res {
        panic!("{e}");
    }
}

/// Random `--set` strings alone, on every shipped scenario.
#[test]
fn fuzzed_set_arguments_never_panic_and_every_rejection_names_a_key_path() {
    let dir = workdir("sets");
    let seeds = corpus();
    let (mut cfg, rng) = config();
    cfg.cases = (cfg.cases / 2).max(1);
    let mut runner = TestRunner::new_with_rng(cfg, rng);
    let ran = AtomicUsize::new(0);
    let res = runner.run(
        &(0..seeds.len(), proptest::collection::vec(set_arg(), 1..6)),
        |(s, sets)| {
            ran.fetch_add(1, Ordering::Relaxed);
            check(&dir.join(&seeds[s].0), &sets).map_err(TestCaseError::fail)?;
            Ok(())
        },
    );
    eprintln!("fuzz --set: {} cases", ran.load(Ordering::Relaxed));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = res {
        panic!("{e}");
    }
}

#[test]
fn the_key_path_definition_accepts_the_documented_forms_and_nothing_else() {
    let p = |file: &str, line, msg: &str| Problem {
        origin: scenario::Origin {
            file: file.into(),
            line,
        },
        msg: msg.into(),
    };
    for (f, l, m) in [
        ("a.toml", 3, "subject.mass_kg = 300.0: allowed 30 to 200 kg"),
        ("a.toml", 3, "sweep.axes.\"strength.x\": unknown key `strength.x`"),
        ("a.toml", 3, "sweep.axes.\"task.duration_s\".count = 0: allowed an integer 1 to 100000"),
        ("a.toml", 6, "sweep.axes.\"a\" has 2 values but sweep.axes.\"b\" has 3: zip needs axes of equal length"),
        ("a.toml", 3, "unknown key `task.duraton_s`; did you mean `task.duration_s`?"),
        ("a.toml", 3, "not valid TOML: invalid string"),
        ("a.toml", 0, "cannot read: stream did not contain valid UTF-8"),
        ("a.toml", 2, "include = \"x.toml\": no such file x.toml"),
        ("a.toml", 2, "include cycle: a.toml -> b.toml -> a.toml"),
        ("--set", 0, "expected KEY=VALUE, e.g. --set strength.hip_abductors=0.3"),
        ("a.toml", 0, scenario::EMPTY_FILE),
    ] {
        assert!(names_a_key_path(&p(f, l, m)), "{m}");
    }
    for (f, l, m) in [
        ("a.toml", 0, "not valid TOML: invalid string"),
        ("a.toml", 3, "invalid type: string \"x\", expected f64"),
        ("a.toml", 3, "duration_s = 3: allowed"),
        ("a.toml", 3, "unknown key ``"),
        ("a.toml", 3, "expected KEY=VALUE"),
        ("", 3, "subject.mass_kg = 3: x"),
        ("--set", 0, scenario::EMPTY_FILE),
    ] {
        assert!(!names_a_key_path(&p(f, l, m)), "{m}");
    }
}

// ---------------------------------------------------------------------------------
// Regressions: each problem the fuzzing (or its review) found, named after it.

fn problems_of(file: &Path, sets: &[&str]) -> Vec<Problem> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match scenario::load(file, &sets).and_then(|l| sweep::expand(&l)) {
        Ok(_) => panic!("accepted"),
        Err(e) => {
            assert!(e.problems.iter().all(names_a_key_path), "{e}");
            e.problems
        }
    }
}

fn scenario_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Found by fuzzing: `--set include=...` was rejected with "include can only be given in
/// a scenario file", which does not start with the key.
#[test]
fn regression_set_include_names_the_include_key() {
    let p = problems_of(&scenario_file("single_leg_stance.toml"), &["include=[]"]);
    assert_eq!(p[0].msg, "include: only in a scenario file, not with --set");
}

/// Found by fuzzing: an axis whose name holds a `"` (`'"name' = 0` under `[sweep.axes]`)
/// was shown as `sweep.axes.""name"`, which is not a key path.
#[test]
fn regression_axis_name_with_a_quote_is_shown_as_a_toml_string() {
    let d = workdir("axis-quote");
    let f = d.join("q.toml");
    std::fs::write(&f, "[sweep.axes]\n'\"name' = 0\n").unwrap();
    let p = problems_of(&f, &[]);
    assert!(
        p[0].msg
            .starts_with("sweep.axes.\"\\\"name\": unknown key `\"\\\"name\"`"),
        "{}",
        p[0].msg
    );
    assert_eq!(p[0].origin.line, 2);
    let _ = std::fs::remove_dir_all(&d);
}

/// Found by fuzzing: `--set '`=0'` gave "unknown key ``` ", whose key cannot be read back.
#[test]
fn regression_unknown_key_with_a_backtick_is_shown_as_a_toml_string() {
    let p = problems_of(&scenario_file("single_leg_stance.toml"), &["`=0"]);
    assert_eq!(p[0].msg, "unknown key `\"`\"` (see `hipdrop list keys`)");
}

/// Found in review of the fuzzing: an empty key in a file (`"" = 1`) was reported as a
/// malformed `--set` ("expected KEY=VALUE").
#[test]
fn regression_empty_key_in_a_file_is_an_unknown_key() {
    let d = workdir("empty-key");
    let f = d.join("e.toml");
    std::fs::write(&f, "\"\" = 1\n").unwrap();
    let p = problems_of(&f, &[]);
    assert_eq!(p[0].msg, "unknown key `\"\"` (an empty key)");
    assert_eq!(p[0].origin.line, 1);
    let _ = std::fs::remove_dir_all(&d);
}

/// Found in review of the fuzzing (its generator keeps sweeps small): three valid
/// 100000-value ranges made a grid of 10^15 runs that overflowed `usize` (a panic in
/// debug builds) or ran out of memory. Now refused before expansion, naming sweep.axes.
#[test]
fn regression_grid_of_huge_ranges_is_refused_before_expanding() {
    let t = std::time::Instant::now();
    let p = problems_of(
        &scenario_file("single_leg_stance.toml"),
        &[
            "sweep.axes.strength.gluteus_medius={start=0, stop=1, count=100000}",
            "sweep.axes.strength.gluteus_minimus={start=0, stop=1, count=100000}",
            "sweep.axes.subject.mass_kg={start=40, stop=150, count=100000}",
            "sweep.axes.subject.height_m={start=1.4, stop=2.1, count=100000}",
        ],
    );
    assert!(
        p[0].msg.starts_with("sweep.axes: grid of 100000 x 100000 x 100000 x 100000 values = too many runs: allowed at most 100000 runs"),
        "{}",
        p[0].msg
    );
    assert!(t.elapsed().as_secs() < 5);
}

/// Found in review: `name` sets the output directory `output/<name>`, and
/// `name = "/etc"` or `"../x"` sent results (and `--force`'s removal of hipdrop's files)
/// outside `output/`.
#[test]
fn regression_name_that_is_a_path_is_refused() {
    for bad in ["/etc", "../x", "a/b", "..", "a\\\\b"] {
        let p = problems_of(
            &scenario_file("single_leg_stance.toml"),
            &[&format!("name=\"{bad}\"")],
        );
        assert!(p[0].msg.starts_with("name = "), "{}", p[0].msg);
        assert!(
            p[0].msg.contains("usable as a directory name"),
            "{}",
            p[0].msg
        );
    }
}

/// Deep nesting is a TOML error at line 1, not a stack overflow.
#[test]
fn deeply_nested_toml_is_a_syntax_error_not_a_stack_overflow() {
    let d = workdir("deep");
    for (i, text) in [
        format!("[{}]\nx = 1\n", vec!["a"; 20000].join(".")),
        format!("x = {}{}\n", "[".repeat(5000), "]".repeat(5000)),
        format!("x = {}1{}\n", "{a=".repeat(3000), "}".repeat(3000)),
        format!("{} = 1\n", vec!["a"; 20000].join(".")),
    ]
    .iter()
    .enumerate()
    {
        let f = d.join(format!("deep{i}.toml"));
        std::fs::write(&f, text).unwrap();
        let p = problems_of(&f, &[]);
        assert!(p[0].msg.starts_with("not valid TOML"), "{}", p[0].msg);
        assert_eq!(p[0].origin.line, 1);
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Sweeps over real, sweepable keys with values around their ranges (most mutated files
/// never get past the loader; these reach the sweep expansion and the cross-key checks).
fn sweep_sets() -> impl Strategy<Value = Vec<String>> {
    let specs: Vec<(String, f64, f64, Option<Vec<String>>)> = scenario::keys()
        .into_iter()
        .filter(|k| k.sweepable() && !k.name.contains('<'))
        .map(|k| {
            let choices = match &k.kind {
                scenario::Kind::Bool => Some(vec!["true".into(), "false".into()]),
                scenario::Kind::Choice(c) => Some(c.iter().map(|s| format!("\"{s}\"")).collect()),
                _ => None,
            };
            (k.name.to_string(), k.min, k.max, choices)
        })
        .chain(
            ["hip_abductors", "glut_med1_r", "gluteus_maximus", "all"]
                .iter()
                .map(|n| (format!("strength.{n}"), 0.0, 10.0, None)),
        )
        .collect();
    let axis = (
        proptest::sample::select(specs),
        0u8..5,
        proptest::collection::vec(-0.05f64..1.05, 1..5),
        1i64..6,
        any::<bool>(),
    )
        .prop_map(|((k, lo, hi, choices), shape, us, count, normal)| {
            let x = |u: f64| {
                let v = lo + (hi - lo) * u;
                if v.abs() > 1e6 {
                    format!("{}", v.round())
                } else {
                    format!("{v}")
                }
            };
            let val = match (&choices, shape) {
                (Some(c), 0..=3) => format!(
                    "[{}]",
                    us.iter()
                        .map(|u| c[(u.abs() * 7.0) as usize % c.len()].clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (_, 0 | 1) => format!(
                    "[{}]",
                    us.iter().map(|u| x(*u)).collect::<Vec<_>>().join(", ")
                ),
                (_, 2) => format!(
                    "{{start={}, stop={}, count={count}}}",
                    x(us[0]),
                    x(*us.last().unwrap())
                ),
                (_, 3) if normal => format!(
                    "{{min={}, max={}, distribution=\"normal\", mean={}, sd={}}}",
                    x(us[0].min(*us.last().unwrap())),
                    x(us[0].max(*us.last().unwrap())),
                    x(0.5),
                    (hi - lo) / 4.0
                ),
                (_, 3) => format!("{{min={}, max={}}}", x(us[0]), x(*us.last().unwrap())),
                _ => format!("{}", us[0]),
            };
            format!("sweep.axes.{k}={val}")
        });
    (
        proptest::option::of(proptest::sample::select(sweep_modes())),
        proptest::option::of(1i64..12),
        proptest::option::of(0i64..1000),
        proptest::collection::vec(axis, 1..4),
    )
        .prop_map(|(mode, samples, seed, axes)| {
            let mut v = Vec::new();
            if let Some(m) = mode {
                v.push(format!("sweep.mode=\"{m}\""));
            }
            if let Some(n) = samples {
                v.push(format!("sweep.samples={n}"));
            }
            if let Some(s) = seed {
                v.push(format!("sweep.seed={s}"));
            }
            v.extend(axes);
            v
        })
}

#[test]
fn fuzzed_sweeps_expand_or_name_a_key_path() {
    let dir = workdir("sweeps");
    // The valid files only: the shipped scenarios and the include fixtures.
    let seeds: Vec<(String, Vec<u8>)> = corpus()
        .into_iter()
        .filter(|(n, _)| {
            let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios")
                .join(n);
            p.exists() || n == "base_weak.toml" || n == "variant.toml"
        })
        .collect();
    let (mut cfg, rng) = config();
    cfg.cases = (cfg.cases / 2).max(1);
    let mut runner = TestRunner::new_with_rng(cfg, rng);
    let (ran, accepted) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let res = runner.run(&(0..seeds.len(), sweep_sets()), |(s, sets)| {
        ran.fetch_add(1, Ordering::Relaxed);
        if check(&dir.join(&seeds[s].0), &sets).map_err(TestCaseError::fail)? > 0 {
            accepted.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    });
    eprintln!(
        "fuzz sweeps: {} cases, {} accepted",
        ran.load(Ordering::Relaxed),
        accepted.load(Ordering::Relaxed)
    );
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = res {
        panic!("{e}");
    }
}

/// Found in a new-user trial: `--set 'sweep.axes."strength.hip_abductors"=[...]'` (the
/// axis name quoted, as TOML writes a dotted name in one key) was refused while the
/// unquoted form worked. Both now name the same axis, as in a scenario file.
#[test]
fn regression_quoted_parts_of_a_set_key_are_toml_keys() {
    let file = scenario_file("single_leg_stance.toml");
    for set in [
        "sweep.axes.\"strength.hip_abductors\"=[1.0, 0.5]",
        "sweep.axes.strength.hip_abductors=[1.0, 0.5]",
        "'sweep'.axes.\"strength\".hip_abductors=[1.0, 0.5]",
    ] {
        let loaded = scenario::load(&file, &[set.to_string()]).expect(set);
        let runs = sweep::expand(&loaded).expect(set);
        assert_eq!(runs.len(), 2, "{set}");
    }
}

/// Found in a new-user trial (issue 11): an empty scenario file ran every default
/// silently. A file without any key (empty, comments only, empty tables) is refused at
/// file level; one key is enough.
#[test]
fn regression_a_scenario_without_keys_is_refused() {
    let d = workdir("empty-file");
    for (n, text) in [
        ("empty.toml", ""),
        ("comments.toml", "# nothing here\n\n"),
        ("tables.toml", "[task]\n[strength]\n"),
    ] {
        let f = d.join(n);
        std::fs::write(&f, text).unwrap();
        let p = problems_of(&f, &[]);
        assert_eq!(p.len(), 1, "{n}: {p:?}");
        assert_eq!(p[0].msg, scenario::EMPTY_FILE, "{n}");
        assert_eq!(p[0].origin.file, f.display().to_string());
    }
    let f = d.join("one.toml");
    std::fs::write(&f, "name = \"defaults\"\n").unwrap();
    let l = scenario::load(&f, &[]).unwrap();
    assert_eq!(sweep::expand(&l).unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

/// Found in a new-user trial (issue 11): `{start = 1, stop = 0, count = 1}` was accepted
/// (as 1). One value of a range with two different ends is ambiguous.
#[test]
fn regression_a_one_value_range_with_two_ends_is_refused() {
    let file = scenario_file("single_leg_stance.toml");
    let p = problems_of(
        &file,
        &["sweep.axes.strength.hip_abductors={start=1, stop=0, count=1}"],
    );
    assert!(
        p[0].msg.starts_with("sweep.axes.\"strength.hip_abductors\": count = 1 with start = 1 and stop = 0 is ambiguous")
            && p[0].msg.contains("allowed count = 1 only with start = stop"),
        "{}",
        p[0].msg
    );
    let ok = ["sweep.axes.strength.hip_abductors={start=0.5, stop=0.5, count=1}".to_string()];
    let l = scenario::load(&file, &ok).unwrap();
    assert_eq!(sweep::expand(&l).unwrap().len(), 1);
}

/// Issue 11: latin_hypercube takes uniform {min, max} axes only; a list, a range or a
/// normal distribution is refused with a message that says what is allowed.
#[test]
fn latin_hypercube_refuses_lists_ranges_and_normal_axes_saying_what_is_allowed() {
    let file = scenario_file("single_leg_stance.toml");
    for (axis, what) in [
        ("sweep.axes.task.compensation=[false, true]", "is a list"),
        (
            "sweep.axes.subject.mass_kg={start=50, stop=90, count=3}",
            "is a range",
        ),
        (
            "sweep.axes.subject.mass_kg={min=50, max=110, distribution=\"normal\", mean=75, sd=12}",
            "is a normal distribution",
        ),
    ] {
        let p = problems_of(&file, &["sweep.mode=\"latin_hypercube\"", axis]);
        assert!(
            p[0].msg.contains(what)
                && p[0].msg.contains("allows only {min, max} (uniform) axes")
                && p[0].msg.contains("sweep.mode = \"random\""),
            "{}",
            p[0].msg
        );
    }
    let l = scenario::load(
        &file,
        &[
            "sweep.mode=\"latin_hypercube\"".to_string(),
            "sweep.samples=4".to_string(),
            "sweep.axes.subject.mass_kg={min=50, max=110}".to_string(),
        ],
    )
    .unwrap();
    assert_eq!(sweep::expand(&l).unwrap().len(), 4);
}

/// `output.timeseries` is a plain boolean key, not an axis, and no parameter of a run:
/// it does not change the run ids.
#[test]
fn output_timeseries_is_a_boolean_that_cannot_be_swept_and_keeps_the_run_ids() {
    let file = scenario_file("abductor_strength_sweep.toml");
    let ids = |sets: &[&str]| -> Vec<String> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let l = scenario::load(&file, &sets).unwrap();
        sweep::expand(&l)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(&[]), ids(&["output.timeseries=false"]));
    let p = problems_of(&file, &["output.timeseries=0"]);
    assert_eq!(p[0].msg, "output.timeseries = 0: allowed true or false");
    let p = problems_of(&file, &["sweep.axes.output.timeseries=[true, false]"]);
    assert!(p[0].msg.contains("cannot be swept"), "{}", p[0].msg);
}
