//! The 3D viewer of `report.html`: its data agree with the recorded files (the muscle
//! paths, placed from the recorded coordinates, meet the recorded gluteus medius
//! attachments; the bones are the recorded landmarks), and in a real browser (headless
//! Chromium, Debian's `chromium`, driven by `tests/browser/viewer_test.mjs` with
//! playwright-core) the page throws no JavaScript error, requests nothing from the
//! network, draws a canvas that is not blank, opens the run, time and view a deep link
//! names (the drawing differs between two times, and the pelvis tilt it drew equals the
//! recorded pelvic drop within a degree), and its strength slider, moved with the
//! keyboard, changes the run; the pointer over the gluteus medius names it. For a stance
//! sweep, a single-leg squat and a step-down.
//!
//! Where Chromium, Node.js or `tests/browser/node_modules` (`npm ci` there) are missing,
//! the browser part says so and is skipped, unless `HIPDROP_REQUIRE_BROWSER=1` (as
//! `.ci/run` sets after installing them).
//!
//! CI time: about 40 s (three short sweeps, their figures and a browser).

mod common;
use common::{hipdrop, stderr};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    common::tmp("viewer", name)
}

/// The viewer's data embedded in `report.html`.
fn viewer_data(dir: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let start = html
        .find("<script id=\"hv-data\" type=\"application/json\">")
        .expect("viewer data");
    let body = &html[start..];
    let open = body.find('>').unwrap() + 1;
    let close = body.find("</script>").unwrap();
    serde_json::from_str(&body[open..close].replace("<\\/", "</")).unwrap()
}

/// A column of a run's timeseries.csv.
fn column(dir: &Path, id: &str, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(dir.join("runs").join(id).join("timeseries.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let c = head
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("{name}"));
    lines
        .map(|l| l.split(',').nth(c).unwrap().parse().unwrap_or(f64::NAN))
        .collect()
}

fn run(scenario: &str, sets: &[&str], out: &Path) {
    let o = hipdrop()
        .arg("run")
        .arg(scenario)
        .args(sets.iter().flat_map(|s| ["--set", s]))
        .args(["--quiet", "--threads", "2", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{scenario}: {}",
        stderr(&o)
    );
}

/// The row of `t` in a time series sampled every 10 ms.
fn row_at(time: &[f64], t: f64) -> usize {
    time.iter()
        .position(|x| (x - t).abs() < 1e-9)
        .unwrap_or_else(|| panic!("a row at {t}"))
}

/// The muscle paths the viewer draws start and end where the simulation recorded the
/// gluteus medius attachments, and its landmarks are the recorded ones (mm).
fn check_data_against_the_recording(dir: &Path) {
    let d = viewer_data(dir);
    let runs = d["runs"].as_array().unwrap();
    assert!(!runs.is_empty());
    for r in runs {
        let id = r["id"].as_str().unwrap();
        let stance = if r["stance"] == "left" { "l" } else { "r" };
        let time = column(dir, id, "time_s");
        let names: Vec<&str> = r["muscles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        let gm = names
            .iter()
            .position(|n| *n == format!("glut_med2_{stance}"))
            .expect("glut_med2 drawn");
        assert!(
            r["muscles"][gm]["label"]
                .as_str()
                .unwrap()
                .starts_with("gluteus medius"),
            "named on hover"
        );
        assert_eq!(
            r["muscles"][gm]["key"], true,
            "one of the muscles named first"
        );
        let ts = r["t"].as_array().unwrap();
        let mut worst: f64 = 0.0;
        for (f, t) in ts.iter().enumerate() {
            let row = row_at(&time, t.as_f64().unwrap());
            let path = r["paths"][f][gm].as_array().unwrap();
            let pts: Vec<f64> = path[2..].iter().map(|v| v.as_f64().unwrap()).collect();
            let n = pts.len();
            for (which, p) in [("origin", &pts[..3]), ("insertion", &pts[n - 3..])] {
                for (k, axis) in ["x", "y", "z"].iter().enumerate() {
                    let rec =
                        column(dir, id, &format!("lm_glut_med_{which}_{axis}_m"))[row] * 1000.0;
                    worst = worst.max((p[k] - rec).abs());
                }
            }
            // Bones: the recorded hip and knee centres.
            for (slot, name) in [(3, "hip_r"), (5, "knee_r")] {
                for (k, axis) in ["x", "y", "z"].iter().enumerate() {
                    let rec = column(dir, id, &format!("lm_{name}_{axis}_m"))[row] * 1000.0;
                    let drawn = r["lm"][f][3 * slot + k].as_f64().unwrap();
                    assert!(
                        (drawn - rec).abs() <= 0.5 + 1e-9,
                        "{id} {name} {axis}: {drawn} vs {rec}"
                    );
                }
            }
        }
        // 1 mm: the data's rounding (0.5 mm) and the .mot's pelvis pose.
        assert!(
            worst <= 1.0,
            "{id}: muscle attachments {worst} mm from the recording"
        );
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// Run the browser script; `None` (with the reason printed) where it cannot run here.
fn browser(
    report: &Path,
    links: &[String],
    slider: bool,
    play: Option<&str>,
    work: &Path,
) -> Option<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| tool("chromium"));
    let node = tool("node");
    let module = root.join("tests/browser/node_modules/playwright-core");
    let missing: Vec<&str> = [
        (chromium.is_none(), "chromium (apt-get install chromium)"),
        (node.is_none(), "node (Node.js 20)"),
        (
            !module.is_dir(),
            "tests/browser/node_modules (npm ci in tests/browser)",
        ),
    ]
    .iter()
    .filter(|(m, _)| *m)
    .map(|(_, w)| *w)
    .collect();
    if !missing.is_empty() {
        let msg = format!(
            "the browser test did not run: missing {}",
            missing.join(", ")
        );
        if std::env::var("HIPDROP_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("{msg} (HIPDROP_REQUIRE_BROWSER=1)");
        }
        eprintln!("{msg}");
        return None;
    }
    let cases = work.join("cases.json");
    std::fs::write(
        &cases,
        serde_json::to_vec(&serde_json::json!({"links": links, "slider": slider, "play": play}))
            .unwrap(),
    )
    .unwrap();
    let out = work.join("browser.json");
    let shots = work.join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let o = std::process::Command::new(node.unwrap())
        .arg(root.join("tests/browser/viewer_test.mjs"))
        .arg(report.canonicalize().unwrap())
        .arg(&cases)
        .arg(&out)
        .arg(&shots)
        .env("CHROMIUM", chromium.unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "viewer_test.mjs: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "no JavaScript error");
    assert_eq!(
        v["requests"],
        serde_json::json!([]),
        "nothing requested from the network"
    );
    Some(v)
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn viewer_of_a_stance_sweep_draws_the_recorded_runs_in_a_browser() {
    let dir = tmp("stance");
    run(
        "scenarios/abductor_strength_sweep.toml",
        &[
            "task.duration_s=1.0",
            "output.steady_window_s=0.2",
            "sweep.axes.strength.hip_abductors=[1.0, 0.5, 0.4]",
        ],
        &dir,
    );
    check_data_against_the_recording(&dir);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for bad in ["src=\"http", "href=\"http", "src=\"//", "@import"] {
        assert!(
            !html.contains(bad),
            "the page loads nothing from outside: {bad}"
        );
    }
    let d = viewer_data(&dir);
    let id = |k: usize| d["runs"][k]["id"].as_str().unwrap().to_string();
    let weak = id(2);
    let short = weak.split('_').next().unwrap().to_string();
    // The weak run falls before the end: its second time is the last viewer frame (every
    // 40 ms) before it ended.
    let time = column(&dir, &weak, "time_s");
    let end = *time.last().unwrap();
    let t2 = (((end - 0.02) / 0.04).floor() * 0.04 * 100.0).round() / 100.0;
    assert!(t2 >= 0.3, "the weak run lasts long enough to drop: {end} s");
    let links: Vec<String> = [
        format!("#run={short}&t=0.2&view=behind"),
        format!("#run={short}&t={t2}&view=behind"),
        format!("#run={weak}&t={t2}&view=front"),
        format!("#run={}&t=0.5&view=side", id(0)),
    ]
    .to_vec();
    let work = tmp("stance_browser");
    std::fs::create_dir_all(&work).unwrap();
    // Play side by side: the strong run (lasts to the end) with the weak one (falls).
    let play = format!("#run={}&t=0&view=behind&compare={weak}", id(0));
    let Some(v) = browser(&dir.join("report.html"), &links, true, Some(&play), &work) else {
        return;
    };
    let drop = column(&dir, &weak, "pelvic_drop_deg");
    let l = &v["links"];
    for (k, t, view) in [(0, 0.2, "behind"), (1, t2, "behind"), (2, t2, "front")] {
        let s = &l[k];
        assert_eq!(s["run"], weak.as_str(), "link {k} opens the run");
        assert!((f(&s["t"]) - t).abs() < 1e-9, "link {k} opens t = {t}: {s}");
        assert_eq!(s["view"], view);
        let recorded = drop[row_at(&time, t)];
        let drawn = f(&s["pelvisTiltDrawnDeg"]);
        assert!(
            (drawn - recorded).abs() < 1.0,
            "link {k}: pelvis drawn at {drawn} deg, recorded drop {recorded} deg"
        );
        assert!(f(&s["inked"]) > 0.02, "the canvas is not blank: {s}");
        // Not mirrored: from behind the person's right is on the image's right, from the
        // front on its left.
        let (r, l) = (f(&s["hipRightX"]), f(&s["hipLeftX"]));
        if view == "behind" {
            assert!(
                r > l + 20.0,
                "link {k}: right hip at x {r}, left at {l} from behind"
            );
        } else {
            assert!(
                r < l - 20.0,
                "link {k}: right hip at x {r}, left at {l} from the front"
            );
        }
    }
    // The weak run's pelvis has dropped between the two times: a different drawing, and
    // the drop drawn larger.
    assert_ne!(
        l[0]["hash"], l[1]["hash"],
        "the drawing differs between two times"
    );
    assert!(f(&l[1]["pelvisTiltDrawnDeg"]) > f(&l[0]["pelvisTiltDrawnDeg"]) + 1.0);
    assert!(
        drop[row_at(&time, t2)] > drop[row_at(&time, 0.2)] + 1.0,
        "the run drops"
    );
    assert_eq!(l[3]["view"], "side");
    assert_eq!(
        l[3]["pelvisTiltDrawnDeg"],
        serde_json::Value::Null,
        "no frontal tilt from the side"
    );
    // The slider at its ends: the weakest and the strongest run.
    let sl = &v["slider"];
    assert_eq!(sl["low"]["run"], weak.as_str(), "{sl}");
    assert_eq!(sl["high"]["run"], id(0).as_str(), "{sl}");
    assert!((f(&sl["low"]["strength"]) - 0.4).abs() < 1e-9);
    // Play moves the time and the drawing; side by side shows the second view.
    let p = &v["play"];
    assert!(f(&p["after"]) > f(&p["before"]), "{p}");
    // In step: both views at the shared time, the weak run held at its end once it ended;
    // the measures table shows the first run's recorded drop at that time.
    let ps = &v["playState"];
    let t = f(&ps["t"]);
    assert!((f(&ps["tDrawn"]) - t).abs() < 1e-9, "{ps}");
    assert!((f(&ps["t2Drawn"]) - t.min(end)).abs() < 1e-9, "{ps}");
    assert!(
        (f(&ps["tableDrop"]) - f(&ps["recordedDropDeg"])).abs() < 0.051,
        "{ps}"
    );
    assert_ne!(p["hashBefore"], p["hashAfter"]);
    assert_eq!(p["compareVisible"], true);
    // The pointer over the gluteus medius names it.
    let tip = v["hover"].as_str().unwrap_or_default();
    assert!(
        tip.starts_with("gluteus medius, middle (glut_med2_r)"),
        "hover: {tip:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(work).unwrap();
}

#[test]
fn viewer_of_a_single_leg_squat_and_a_step_down_opens_at_the_deepest_point() {
    // The squat shortened; the step-down at its protocol pace (2 s down: faster, the
    // model loses its balance).
    let quick = [
        "task.descent_s=0.4",
        "task.ascent_s=0.4",
        "task.duration_s=1.0",
    ];
    dynamic_task("scenarios/single_leg_squat.toml", "squat", &quick, 0.4);
    dynamic_task("scenarios/step_down.toml", "step_down", &[], 2.0);
}

fn dynamic_task(scenario: &str, name: &str, sets: &[&str], bottom: f64) {
    let dir = tmp(name);
    run(scenario, sets, &dir);
    check_data_against_the_recording(&dir);
    let d = viewer_data(&dir);
    let id = d["runs"][0]["id"].as_str().unwrap().to_string();
    // A step-down's box (its top at y = 0, the floor below): the scenario's 20 cm.
    let box_m = d["runs"][0]["box_m"].as_f64();
    assert_eq!(box_m, (name == "step_down").then_some(0.2), "{name}: box");
    let time = column(&dir, &id, "time_s");
    let knee = column(&dir, &id, "knee_flexion_deg");
    let work = tmp(&format!("{name}_browser"));
    std::fs::create_dir_all(&work).unwrap();
    let links = vec![
        format!("#run={id}&t={bottom}&view=front"),
        format!("#run={id}&t=0&view=front"),
        format!("#run={id}&t={bottom}&view=side"),
    ];
    let Some(v) = browser(&dir.join("report.html"), &links, false, None, &work) else {
        return;
    };
    let l = &v["links"];
    let drop = column(&dir, &id, "pelvic_drop_deg");
    for (k, t) in [(0, bottom), (1, 0.0)] {
        let recorded = drop[row_at(&time, t)];
        let drawn = f(&l[k]["pelvisTiltDrawnDeg"]);
        assert!(
            (drawn - recorded).abs() < 1.0,
            "{name} t {t}: {drawn} vs {recorded}"
        );
        assert!(
            f(&l[k]["fppaDrawnDeg"]).is_finite(),
            "FPPA drawn from the front"
        );
    }
    assert!(
        knee[row_at(&time, bottom)] > 50.0,
        "{name}: deep at {bottom} s"
    );
    assert_ne!(
        l[0]["hash"], l[1]["hash"],
        "{name}: standing and at the bottom drawn differently"
    );
    assert_eq!(
        v["play"]["compareVisible"], false,
        "{name}: one run, nothing to put beside it"
    );
    assert_eq!(
        l[2]["pelvisTiltDrawnDeg"],
        serde_json::Value::Null,
        "{name}: no frontal tilt from the side"
    );
    assert_eq!(
        l[2]["fppaDrawnDeg"],
        serde_json::Value::Null,
        "{name}: no FPPA from the side"
    );
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(work).unwrap();
}

#[test]
fn viewer_of_a_left_stance_is_not_mirrored() {
    let dir = tmp("left");
    run(
        "scenarios/single_leg_stance.toml",
        &[
            "subject.stance_side=\"left\"",
            "strength.hip_abductors=0.45",
            "task.duration_s=0.6",
            "output.steady_window_s=0.1",
        ],
        &dir,
    );
    check_data_against_the_recording(&dir);
    let d = viewer_data(&dir);
    assert_eq!(d["runs"][0]["stance"], "left");
    let id = d["runs"][0]["id"].as_str().unwrap().to_string();
    let time = column(&dir, &id, "time_s");
    let drop = column(&dir, &id, "pelvic_drop_deg");
    let end = *time.last().unwrap();
    let t = (((end - 0.02) / 0.04).floor() * 0.04 * 100.0).round() / 100.0;
    let work = tmp("left_browser");
    std::fs::create_dir_all(&work).unwrap();
    let links = vec![
        format!("#run={id}&t={t}&view=behind"),
        format!("#run={id}&t={t}&view=front"),
    ];
    let Some(v) = browser(&dir.join("report.html"), &links, false, None, &work) else {
        return;
    };
    let recorded = drop[row_at(&time, t)];
    assert!(
        recorded > 1.0,
        "the swing (right) side has dropped: {recorded} deg"
    );
    for (k, behind) in [(0, true), (1, false)] {
        let s = &v["links"][k];
        let drawn = f(&s["pelvisTiltDrawnDeg"]);
        assert!(
            (drawn - recorded).abs() < 1.0,
            "{s}: drawn {drawn} vs recorded {recorded}"
        );
        let (r, l) = (f(&s["hipRightX"]), f(&s["hipLeftX"]));
        assert_eq!(r > l, behind, "{s}: right hip at x {r}, left at {l}");
        assert!(f(&s["fppaDrawnDeg"]).is_finite());
    }
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(work).unwrap();
}
