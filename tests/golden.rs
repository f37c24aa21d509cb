//! Golden outputs: every shipped scenario, run in full through the command line, gives a
//! `summary.csv` byte-identical to the one stored in `tests/golden/`. This guards
//! refactoring (the engine split of the tasks issue): a change that moves results must
//! update the files in its own commit and say why there.
//!
//! Regenerate after a deliberate change of results with
//! `HIPDROP_BLESS=1 cargo test --test golden` and review the diff.

mod common;
use common::{hipdrop_output, tmp};

const SCENARIOS: [&str; 9] = [
    "single_leg_stance",
    "abductor_strength_sweep",
    "squats_vs_abductors",
    "compensation",
    "research_grid",
    "single_leg_squat",
    "step_down",
    "squat_strength_sweep",
    "squat_squats_vs_abductors",
];

#[test]
fn shipped_scenarios_match_their_golden_summaries() {
    let bless = std::env::var_os("HIPDROP_BLESS").is_some();
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut differ = Vec::new();
    for name in SCENARIOS {
        let out = tmp("golden", name);
        let o = hipdrop_output([
            "run",
            &format!("scenarios/{name}.toml"),
            "--out",
            out.to_str().unwrap(),
            "--no-plots",
            "--quiet",
            "--threads",
            "2",
        ]);
        assert!(
            o.status.code() == Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        let path = golden.join(format!("{name}.summary.csv"));
        if bless {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&path, &got).unwrap();
        } else {
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (HIPDROP_BLESS=1 writes it)", path.display()));
            if got != want {
                let line = got
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .map(|i| i + 1)
                    .unwrap_or(got.lines().count().min(want.lines().count()) + 1);
                differ.push(format!("{name}: first difference at line {line}"));
            }
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    assert!(
        differ.is_empty(),
        "summary.csv differs from tests/golden: {differ:?}"
    );
}
