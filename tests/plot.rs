//! Plotting from a small recorded output (`tests/data/plot_fixture/`): every figure is
//! written, decodes, has the expected size, and the GIF has the planned frame count.
//!
//! The fixture is three short runs of `scenarios/single_leg_stance.toml` (0.6 s, time
//! series trimmed to the hip muscles and every other row): abductors at 30 %, the same
//! with glute max at 200 % ("squats"), and abductors at 60 % ("abductor training").

use hipdrop::plot::{
    deepest_row, deepest_words, describe_run, fppa_2d, gif_frame_plan, gif_rows, heat_cell,
    hold_last_frame, knee_verdict, plot_dir, read_summary, read_timeseries, reading,
    select_comparisons, shown_row, style, PlotOptions, RunStatus, Side, TaskKind,
};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plot_fixture")
}

/// A fresh copy of the fixture in a temporary directory, so tests can write into it.
fn copy_fixture(name: &str) -> PathBuf {
    let dst = std::env::temp_dir().join(format!("hipdrop_plot_test_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(fixture()).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    dst
}

fn png_size(p: &Path) -> (u32, u32) {
    let img = image::open(p).unwrap_or_else(|e| panic!("{} does not decode: {e}", p.display()));
    (img.width(), img.height())
}

/// Frame count, size and each frame's delay (centiseconds).
fn gif_frames(p: &Path) -> (usize, (u16, u16), Vec<u16>) {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut d = opts
        .read_info(std::fs::File::open(p).unwrap())
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", p.display()));
    let size = (d.width(), d.height());
    let mut delays = Vec::new();
    while let Some(f) = d.read_next_frame().unwrap() {
        delays.push(f.delay);
    }
    (delays.len(), size, delays)
}

#[test]
fn plot_fixture_writes_every_figure_with_expected_sizes() {
    let dir = copy_fixture("all");
    let files = plot_dir(&dir, &PlotOptions::default()).expect("plotting the fixture");
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    let expect_png = [
        ("sweep_pelvic_drop.png", (1400, 900)),
        ("sweep_measures.png", (1800, 1000)),
        ("sweep_drop_over_time.png", (1400, 900)),
        ("compare_strong_vs_weak.png", (1800, 1250)),
        ("compare_squats_vs_abductors.png", (1800, 1250)),
        ("run_0000_measures.png", (1800, 1000)),
        ("run_0000_muscles.png", (1400, 1300)),
        ("run_0000_frontal.png", (1000, 1250)),
        ("run_0002_frontal.png", (1000, 1250)),
    ];
    for (name, size) in expect_png {
        assert!(
            names.iter().any(|n| n == name),
            "{name} not written; got {names:?}"
        );
        assert_eq!(png_size(&dir.join("figures").join(name)), size, "{name}");
    }
    // Every PNG written decodes.
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
    {
        png_size(f);
    }
    // The SVG is an SVG with text in it.
    let svg = std::fs::read_to_string(dir.join("figures/run_0000_frontal.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Seen from behind"));
    // GIFs: one per demo run, with the planned frame count.
    let ts_rows = std::fs::read_to_string(dir.join("run_0000_timeseries.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    let (_, frames) = gif_frame_plan(ts_rows, PlotOptions::default().gif_max_frames);
    let (n, size, delays) = gif_frames(&dir.join("figures/run_0000_stance.gif"));
    assert_eq!(n, frames);
    assert_eq!(size, (600, 760));
    // The last frame (here: the fall) stays on screen for 1.5 s before the loop;
    // every other frame keeps the animation's pace.
    assert_eq!(*delays.last().unwrap(), 150, "{delays:?}");
    assert!(delays[..n - 1].iter().all(|&d| d == delays[0] && d < 150));
    // The report embeds the images and reads the numbers out in words.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(html.contains("data:image/gif;base64,"));
    assert!(html.contains("Trendelenburg"));
    assert!(!html.contains("src=\"figures/"), "images must be embedded");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_is_rendered_with_the_bundled_font() {
    // A title drawn in black over white must leave dark pixels in the top band.
    let dir = copy_fixture("text");
    plot_dir(
        &dir,
        &PlotOptions {
            gif: false,
            report: false,
            ..Default::default()
        },
    )
    .unwrap();
    let img = image::open(dir.join("figures/sweep_pelvic_drop.png"))
        .unwrap()
        .to_rgb8();
    let dark = (300..1100)
        .flat_map(|x| (14..44).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 80))
        .count();
    assert!(dark > 500, "title text not rendered ({dark} dark pixels)");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_runs_are_chosen_by_the_documented_rule() {
    let s = read_summary(&fixture()).unwrap();
    let c = select_comparisons(&s, None, &fixture().join("summary.csv")).unwrap();
    let ids = |k: usize| {
        (
            s.rows[c[k].left].run_id.as_str(),
            s.rows[c[k].right].run_id.as_str(),
        )
    };
    assert_eq!(c[0].stem, "compare_strong_vs_weak");
    // Strongest abductors (60 %) vs weakest (30 %) at the baseline glute max.
    assert_eq!(ids(0), ("run_0002", "run_0000"));
    assert_eq!(c[1].stem, "compare_squats_vs_abductors");
    // Largest glute max ("squats") vs largest abductors ("abductor training").
    assert_eq!(ids(1), ("run_0001", "run_0002"));
    let explicit = ("run_0001".to_string(), "run_0000".to_string());
    let c = select_comparisons(&s, Some(&explicit), &fixture().join("summary.csv")).unwrap();
    assert_eq!(c.len(), 3);
    let bad = ("run_0001".to_string(), "nope".to_string());
    let e = select_comparisons(&s, Some(&bad), &fixture().join("summary.csv")).unwrap_err();
    assert!(e.to_string().contains("`nope`"), "{e}");
}

#[test]
fn missing_summary_names_the_file() {
    let dir = std::env::temp_dir().join(format!("hipdrop_plot_empty_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let e = plot_dir(&dir, &PlotOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("summary.csv") && msg.contains("not found"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gif_frame_plan_covers_first_and_last_row() {
    assert_eq!(gif_frame_plan(0, 120), (1, 0));
    // 31 rows, all shown; the last is held by its delay, not by copies.
    let (s, n) = gif_frame_plan(31, 120);
    assert_eq!(s, 1);
    assert_eq!(n, 31);
    // 201 rows into at most 120 frames: every other row (0, 2, ..., 200).
    let (s, n) = gif_frame_plan(201, 120);
    assert_eq!(s, 2);
    assert_eq!(n, 101);
    assert_eq!(hipdrop::plot::GIF_HOLD_MS, 1500);
}

/// A two-frame GIF as the `gif` crate writes it, with both delays 3 cs.
fn tiny_gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = gif::Encoder::new(&mut out, 2, 2, &[0, 0, 0, 255, 255, 255]).unwrap();
        for k in 0..2u8 {
            let mut f = gif::Frame::from_indexed_pixels(2, 2, &[k, 1 - k, k, 1 - k], None);
            f.delay = 3;
            e.write_frame(&f).unwrap();
        }
    }
    out
}

#[test]
fn hold_last_frame_sets_only_the_last_delay() {
    let mut g = tiny_gif();
    let before = g.clone();
    hold_last_frame(&mut g, 150).unwrap();
    let p = std::env::temp_dir().join(format!("hipdrop_hold_{}.gif", std::process::id()));
    std::fs::write(&p, &g).unwrap();
    let (n, _, delays) = gif_frames(&p);
    assert_eq!(n, 2);
    assert_eq!(delays, vec![3, 150]);
    // Only the two delay bytes changed.
    let changed = g.iter().zip(&before).filter(|(a, b)| a != b).count();
    assert!(changed <= 2 && g.len() == before.len());
    let _ = std::fs::remove_file(&p);
    // Not a GIF, or cut short: an error, not a panic or a silent no-op.
    assert!(hold_last_frame(&mut b"PNG....".to_vec(), 150).is_err());
    let mut cut = before[..before.len() - 12].to_vec();
    assert!(hold_last_frame(&mut cut, 150).is_err());
}

#[test]
fn single_run_gets_frontal_figure_gif_and_a_question_from_the_manifest() {
    let dir = copy_fixture("single");
    // Keep only the first run, as `hipdrop run` without a sweep writes it.
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let two: Vec<&str> = summary.lines().take(2).collect();
    std::fs::write(dir.join("summary.csv"), two.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r##"{"scenario": {"path": "x.toml", "resolved": "# Does the pelvis stay level?\n# Second line.\n[subject]\nmass_kg = 75\n"}}"##,
    )
    .unwrap();
    let files = plot_dir(&dir, &PlotOptions::default()).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert!(!names
        .iter()
        .any(|n| n.starts_with("sweep_") || n.starts_with("compare_")));
    for n in [
        "run_0000_frontal.png",
        "run_0000_frontal.svg",
        "run_0000_stance.gif",
        "report.html",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Does the pelvis stay level? Second line."));
    assert!(
        html.contains("at 30 % of normal strength, the model could not hold the stance"),
        "reading missing"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_parameter_grid_gets_a_heat_map() {
    let dir = copy_fixture("grid");
    // Add a fourth run (abductors 60 %, glute max 200 %) to complete a 2 x 2 grid,
    // reusing a recorded time series: plotting only reads what is there.
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let last = summary.lines().last().unwrap();
    let mut cells: Vec<String> = last.split(',').map(String::from).collect();
    cells[0] = "run_0003".into();
    cells[1] = "2".into();
    std::fs::write(
        dir.join("summary.csv"),
        format!("{}{}\n", summary, cells.join(",")),
    )
    .unwrap();
    std::fs::copy(
        dir.join("run_0002_timeseries.csv"),
        dir.join("run_0003_timeseries.csv"),
    )
    .unwrap();
    let opts = PlotOptions {
        gif: false,
        ..Default::default()
    };
    plot_dir(&dir, &opts).unwrap();
    assert_eq!(
        png_size(&dir.join("figures/sweep_heatmap.png")),
        (1300, 1000)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A summary.csv in the layout `hipdrop run` writes (parameters, metrics including the
/// newer peak/effort columns, status columns), read back as a Summary.
fn summary_of(name: &str, header: &str, rows: &[String]) -> hipdrop::plot::Summary {
    let dir = std::env::temp_dir().join(format!("hipdrop_plot_sum_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("summary.csv"),
        format!("{header}\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let s = read_summary(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    s
}

const NEW_HEADER: &str = "run_id,strength.hip_abductors,task.compensation,pelvic_drop_deg,pelvic_drop_cm,knee_fppa_deg,trunk_lean_deg,hip_abductor_moment_nm_per_kg,hip_abductor_capacity_nm_per_kg,hip_abductor_usable_capacity_nm_per_kg,hip_abductor_effort,hip_abductors_saturated,pelvic_drop_peak_cm,knee_fppa_peak_deg,time_to_trendelenburg_s,status,status_time_s,status_detail";

/// One row: abductors `a`, lean `lean`, steady drop `drop` (cm), status, status time,
/// time to 2 cm ("" = never).
fn row(id: usize, a: f64, lean: bool, drop: f64, status: &str, t: &str, t2: &str) -> String {
    format!(
        "r{id:04},{a},{lean},{},{drop},1.1,{},0.8,1.4,0.85,0.94,2,{},1.3,{t2},{status},{t},",
        drop * 2.0,
        if lean { 9.0 } else { -0.0 },
        drop.max(0.0) + 0.1
    )
}

#[test]
fn statuses_still_falling_is_not_held() {
    assert_eq!(RunStatus::parse("still_falling"), RunStatus::StillFalling);
    assert_eq!(RunStatus::parse("failed"), RunStatus::Failed);
    assert!(RunStatus::Ok.held());
    for st in [
        RunStatus::StillFalling,
        RunStatus::LostBalance,
        RunStatus::Diverged,
        RunStatus::Failed,
    ] {
        assert!(!st.held());
        assert_ne!(st.describe(), RunStatus::Ok.describe());
    }
    let s = summary_of(
        "still",
        NEW_HEADER,
        &[
            row(0, 1.0, false, 0.3, "ok", "", ""),
            row(1, 0.5, false, 1.5, "still_falling", "2", "1.42"),
        ],
    );
    let d = describe_run(&s, 1);
    assert!(!d.contains("held the stance"), "{d}");
    assert!(d.contains("still dropping") && d.contains("1.42 s"), "{d}");
    assert!(describe_run(&s, 0).contains("held the stance"));
    // The effort sentence uses the usable capacity and the saturated compartments.
    let d0 = describe_run(&s, 0);
    assert!(d0.contains("94 %") && d0.contains("0.85 N·m/kg"), "{d0}");
    assert!(
        d0.contains("2 of the 6 glute med and min compartments"),
        "{d0}"
    );
    assert!(!d0.contains("of what they can produce"), "{d0}");
}

#[test]
fn compensation_sweep_compares_lean_off_vs_on() {
    // scenarios/compensation.toml: lean off/on x abductors 100/60/30 %. Without lean
    // the 30 % run falls; with lean it holds: that pair is the comparison.
    let rows = [
        row(0, 1.0, false, 0.2, "ok", "", ""),
        row(1, 0.6, false, 0.4, "ok", "", ""),
        row(2, 0.3, false, 1.0, "lost_balance", "0.6", "0.41"),
        row(3, 1.0, true, 0.1, "ok", "", ""),
        row(4, 0.6, true, 0.2, "ok", "", ""),
        row(5, 0.3, true, 0.5, "ok", "", ""),
    ];
    let s = summary_of("lean", NEW_HEADER, &rows);
    let c = select_comparisons(&s, None, Path::new("summary.csv")).unwrap();
    assert_eq!(c[0].stem, "compare_lean_off_vs_on");
    assert_eq!((c[0].left, c[0].right), (2, 5));
    assert!(c[0].right_label.contains("9°"), "{}", c[0].right_label);
    // If leaning changes no outcome, the weakest abductors are compared.
    let rows2: Vec<String> = rows
        .iter()
        .map(|r| r.replace("lost_balance", "ok"))
        .collect();
    let s2 = summary_of("lean2", NEW_HEADER, &rows2);
    let c2 = select_comparisons(&s2, None, Path::new("summary.csv")).unwrap();
    assert_eq!((c2[0].left, c2[0].right), (2, 5));
    // The reading says what leaning did, and never prints "-0".
    let text = reading(&s, &c).join(" ");
    assert!(text.contains("leaning helped"), "{text}");
    assert!(!text.contains("-0.0") && !text.contains("-0°"), "{text}");
}

#[test]
fn large_sweep_reading_gives_ranges_not_lists() {
    // 1000 runs from 10 % to 100 %: below 45 % the model falls (sooner the weaker),
    // 45-50 % still dropping at the end, from 50 % up level.
    let rows: Vec<String> = (0..1000)
        .map(|i| {
            let a = 0.1 + 0.9 * i as f64 / 999.0;
            if a < 0.45 {
                let t = 0.3 + a;
                row(
                    i,
                    a,
                    false,
                    1.0,
                    "lost_balance",
                    &format!("{t:.3}"),
                    &format!("{:.3}", t - 0.2),
                )
            } else if a < 0.5 {
                row(i, a, false, 1.5, "still_falling", "1", "0.8")
            } else {
                row(i, a, false, 0.2 + (1.0 - a), "ok", "", "")
            }
        })
        .collect();
    let s = summary_of("big", NEW_HEADER, &rows);
    let text = reading(&s, &[]).join("\n");
    assert!(
        !text.contains("10 %, 10 %") && !text.contains("10.0 %, 10.1 %"),
        "a list: {text}"
    );
    assert!(text.contains("10.00–44.95 %"), "{text}");
    assert!(text.contains("the sooner the weaker"), "{text}");
    assert!(text.contains("still dropping"), "{text}");
    // "down to 50 %; at 50 % and weaker": the two bounds must read differently.
    assert!(
        text.contains("at 50.00 % of normal strength or more; with 49.91 % or less"),
        "{text}"
    );
    assert!(text.len() < 4000, "{} characters", text.len());
    // Every figure of the large sweep draws (no time series here: sweep figures only).
    let dir = std::env::temp_dir().join(format!("hipdrop_plot_big_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("summary.csv"),
        format!("{NEW_HEADER}\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let files = plot_dir(
        &dir,
        &PlotOptions {
            gif: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(files.iter().any(|f| f.ends_with("sweep_pelvic_drop.png")));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("60 of the 1000 runs are shown"));
    assert!(
        !html.contains("held the stance at 1"),
        "still_falling is not held"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn knee_wording_follows_the_measured_fppa_and_the_stated_threshold() {
    assert_eq!(knee_verdict(-1.3), "the knee did not move inward");
    let v = knee_verdict(1.3);
    assert!(
        v.contains("slightly inward") && v.contains("did not visibly cave in"),
        "{v}"
    );
    assert!(v.contains(&format!("{}°", style::FPPA_VISIBLE_DEG)), "{v}");
    let v = knee_verdict(9.0);
    assert!(
        v.contains("caved in visibly") && v.contains("healthy"),
        "{v}"
    );
    let v = knee_verdict(15.0);
    assert!(v.contains("patellofemoral pain"), "{v}");
    // The report's knee sentence uses the peak FPPA column (1.3 here).
    let s = summary_of("knee", NEW_HEADER, &[row(0, 1.0, false, 0.2, "ok", "", "")]);
    let text = reading(&s, &[]).join(" ");
    assert!(
        text.contains("1.3°") && text.contains("slightly inward"),
        "{text}"
    );
}

#[test]
fn heat_map_colours_by_time_to_2cm_never_by_drop_at_the_fall() {
    let s = summary_of(
        "heat",
        NEW_HEADER,
        &[
            row(0, 1.0, false, 0.3, "ok", "", ""),
            row(1, 0.3, false, 0.5, "lost_balance", "0.39", "0.21"),
            row(2, 0.2, false, 3.0, "lost_balance", "0.30", "0.10"),
            row(3, 0.5, false, 1.0, "still_falling", "1", ""),
        ],
    );
    let held = heat_cell(&s, 0, 1.0);
    assert_eq!(held.color, style::HELD_LEVEL);
    assert!(held.lines[0].starts_with("level"));
    // The run that fell with the smaller drop fell later: it must be paler (later),
    // not coloured as if its 0.5 cm drop were a mild steady drop.
    let (a, b) = (heat_cell(&s, 1, 1.0), heat_cell(&s, 2, 1.0));
    assert_eq!(a.color, style::time_heat(0.21));
    assert_eq!(b.color, style::time_heat(0.10));
    let lum = |c: plotters::style::RGBColor| c.0 as u32 + c.1 as u32 + c.2 as u32;
    assert!(lum(a.color) > lum(b.color));
    assert_eq!(a.lines, vec!["2 cm at 0.21 s", "fell at 0.39 s"]);
    let still = heat_cell(&s, 3, 1.0);
    assert_eq!(still.color, style::NOT_SETTLED);
    assert_eq!(still.lines, vec!["still dropping"]);
}

#[test]
fn old_outputs_get_peaks_and_times_from_the_time_series() {
    // The fixture predates the peak columns: the report still gives a time to 2 cm.
    let dir = copy_fixture("old");
    plot_dir(
        &dir,
        &PlotOptions {
            gif: false,
            ..Default::default()
        },
    )
    .unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("time to 2 cm drop (s)"), "no time column");
    assert!(
        html.contains("passed 2 cm after 0.19 s"),
        "time not derived"
    );
    assert!(html.contains("predates the usable-capacity measure"));
    assert!(!html.contains("-0.0"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn short_of_depth_is_parsed_described_and_never_held() {
    assert_eq!(RunStatus::parse("short_of_depth"), RunStatus::ShortOfDepth);
    assert!(!RunStatus::ShortOfDepth.held());
    assert_eq!(
        RunStatus::ShortOfDepth.describe(),
        "did not reach the task's depth"
    );
    let s = summary_of(
        "short",
        NEW_HEADER,
        &[
            row(0, 1.0, false, 0.3, "ok", "", ""),
            format!(
                "{}the stance knee reached 50.1 deg of the 60 deg squat depth",
                row(1, 0.4, false, 1.5, "short_of_depth", "3", "")
            ),
        ],
    );
    assert_eq!(s.rows[1].status, RunStatus::ShortOfDepth);
    assert!(s.rows[1].steady("pelvic_drop_cm").is_none());
    let d = describe_run(&s, 1);
    assert!(!d.contains("held"), "{d}");
    assert!(d.contains("did not reach the task's depth"), "{d}");
    assert!(d.contains("50.1 deg"), "{d}");
    let all = reading(&s, &[]).join(" ");
    assert!(all.contains("did not reach the task's depth"), "{all}");
}

/// Three runs of `scenarios/squat_strength_sweep.toml` (abductors 100 %: ok, 50 %:
/// still falling, 45 %: lost balance), every 5th row, hip muscles only; the task kind is
/// in `manifest.json`'s resolved scenario, as `hipdrop run` writes it.
fn squat_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plot_squat_fixture")
}

#[test]
fn dynamic_task_is_shown_at_the_deepest_point() {
    let dir = squat_fixture();
    let mut s = read_summary(&dir).unwrap();
    assert_eq!(
        s.rows[0].task,
        TaskKind::SingleLegStance,
        "nothing read yet"
    );
    hipdrop::plot::data::read_task_kinds(&dir, &mut s);
    assert!(s.rows.iter().all(|r| r.task == TaskKind::SingleLegSquat));
    let ts = read_timeseries(&dir, &s.rows[0].run_id).unwrap().unwrap();
    let k = ts.col("knee_flexion_deg").unwrap();
    let d = deepest_row(&ts).unwrap();
    assert!(k.iter().all(|&v| v <= k[d]), "row {d} is not the deepest");
    assert!(d > 0 && d < ts.len() - 1, "the squat's bottom is mid-run");
    assert!(k[d] > 55.0, "{}", k[d]);
    assert_eq!(shown_row(&s, 0, &ts), d);
    assert_eq!(
        deepest_words(&ts, d),
        format!("deepest point, knee {}°", k[d].round())
    );
    // The camera's angle from the recorded landmarks is the recorded FPPA.
    let f = fppa_2d(&ts, d, Side::Right).unwrap();
    assert!((f - ts.at("knee_fppa_deg", d)).abs() < 0.05, "{f}");
    // Single-leg stance: the last row (steady state).
    s.rows[0].task = TaskKind::SingleLegStance;
    assert_eq!(shown_row(&s, 0, &ts), ts.len() - 1);
}

#[test]
fn deepest_row_is_the_first_of_the_largest_knee_flexion() {
    let dir = std::env::temp_dir().join(format!("hipdrop_plot_deep_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("r0_timeseries.csv"),
        "time_s,knee_flexion_deg\n0,10\n0.1,,\n0.2,61\n0.3,61\n0.4,20\n0.5,10\n",
    )
    .unwrap();
    let ts = read_timeseries(&dir, "r0").unwrap().unwrap();
    assert_eq!(deepest_row(&ts), Some(2));
    std::fs::write(
        dir.join("r1_timeseries.csv"),
        "time_s,knee_flexion_deg\n0,\n",
    )
    .unwrap();
    assert_eq!(
        deepest_row(&read_timeseries(&dir, "r1").unwrap().unwrap()),
        None
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn squat_sweep_plots_the_deepest_point_from_the_front() {
    let dir = std::env::temp_dir().join(format!("hipdrop_plot_squat_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(squat_fixture()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let files = plot_dir(&dir, &PlotOptions::default()).expect("plotting the squat fixture");
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for n in [
        "r0000_f8d3f7b9_frontal.png",
        "compare_strong_vs_weak.png",
        "knee_flexion_chain.png",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
    }
    assert_eq!(
        png_size(&dir.join("figures/knee_flexion_chain.png")),
        (1800, 1100)
    );
    // The GIF of a squat plays the whole movement and holds the end.
    let gifs: Vec<&String> = names.iter().filter(|n| n.ends_with(".gif")).collect();
    assert!(!gifs.is_empty(), "{names:?}");
    for g in gifs {
        let id = g.trim_end_matches("_stance.gif");
        let ts = read_timeseries(&dir, id).unwrap().unwrap();
        let deep = deepest_row(&ts).unwrap();
        let rows = gif_rows(ts.len(), PlotOptions::default().gif_max_frames, Some(deep));
        assert_eq!(rows.first(), Some(&0));
        assert_eq!(rows.last(), Some(&(ts.len() - 1)));
        assert!(rows.contains(&deep), "{id}: deepest row shown");
        let (n, _, delays) = gif_frames(&dir.join("figures").join(g));
        assert_eq!(n, rows.len(), "{id}");
        let last = *delays.last().unwrap();
        assert_eq!(
            last as u32,
            hipdrop::plot::GIF_HOLD_MS / 10,
            "{id}: the end is held"
        );
        assert!(delays[..n - 1].iter().all(|&d| d < last), "{id}");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("seen from the front at the deepest point, knee"),
        "caption"
    );
    assert!(html.contains("the whole single-leg squat"), "gif caption");
    assert!(html.contains("completed the task"), "outcome of the ok run");
    assert!(!html.contains("held the stance"), "a squat holds no stance");
    assert!(html.contains("in the single-leg squat"), "comparison title");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gif_rows_play_everything_and_pass_through_the_kept_row() {
    let v = gif_rows(301, 120, None);
    assert_eq!((v[0], *v.last().unwrap()), (0, 300));
    assert!(v.windows(2).all(|w| w[1] > w[0]));
    let k = gif_rows(301, 120, Some(97));
    assert_eq!(k.len(), v.len(), "same number of frames");
    assert!(k.contains(&97) && k.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(gif_rows(301, 120, Some(99)), v, "already a frame");
    assert!(gif_rows(0, 120, None).is_empty());
}

const SQUAT_HEADER: &str = "run_id,strength.hip_abductors,task.kind,pelvic_drop_deg,pelvic_drop_cm,knee_fppa_deg,pelvic_drop_peak_deg,pelvic_drop_peak_cm,knee_fppa_peak_deg,knee_medial_shift_peak_mm,hip_adduction_peak_deg,hip_internal_rotation_peak_deg,knee_flexion_peak_deg,glut_med_activation_peak,time_to_trendelenburg_s,status,status_time_s,status_detail";

/// A squat run: abductors `a`, largest FPPA `fppa`, status, its time, time to 2 cm.
fn squat_row(id: usize, a: f64, fppa: f64, status: &str, t: &str, t2: &str) -> String {
    format!(
        "r{id:04},{a},single_leg_squat,0.1,0.0,1.1,1.3,0.6,{fppa},26,11.2,6.9,60.8,{},{t2},{status},{t},",
        1.0 - a / 2.0
    )
}

fn squat_reading(rows: &[String]) -> (hipdrop::plot::Summary, String) {
    let s = summary_of("squat", SQUAT_HEADER, rows);
    assert!(s.rows.iter().all(|r| r.task == TaskKind::SingleLegSquat));
    let all = reading(&s, &[]).join("\n");
    (s, all)
}

#[test]
fn squat_reading_calls_flat_flat_and_a_failure_below_it_a_cliff() {
    let (_, all) = squat_reading(&[
        squat_row(0, 1.0, 8.38, "ok", "", ""),
        squat_row(1, 0.8, 8.39, "ok", "", ""),
        squat_row(2, 0.6, 8.40, "ok", "", ""),
        squat_row(3, 0.5, 8.3, "still_falling", "3", "2.72"),
        squat_row(4, 0.4, 7.5, "lost_balance", "0.6", "0.32"),
    ]);
    for word in ["grows", "grew", "increase"] {
        assert!(!all.contains(word), "says {word:?}: {all}");
    }
    assert!(all.contains("did not grow"), "{all}");
    assert!(all.contains("cliff"), "{all}");
    assert!(all.contains("8.4°"), "{all}");
    assert!(
        all.contains("8.4 ± 5.1°") && all.contains("Herrington 2014"),
        "{all}"
    );
    assert!(all.contains("lost its balance after 0.60 s"), "{all}");
    assert!(!all.contains("held the stance"), "{all}");
}

#[test]
fn squat_reading_says_grew_only_beyond_the_detectable_difference() {
    // Larger the weaker, by less than the 7.5 deg a 2D camera can detect: not "grew".
    let (_, small) = squat_reading(&[
        squat_row(0, 1.0, 8.0, "ok", "", ""),
        squat_row(1, 0.8, 9.0, "ok", "", ""),
        squat_row(2, 0.6, 10.5, "ok", "", ""),
    ]);
    assert!(
        !small.contains("grew") && !small.contains("grows"),
        "{small}"
    );
    assert!(
        small.contains("Munro 2012") && small.contains("2.5°"),
        "{small}"
    );
    assert!(!small.contains("cliff"), "no run failed: {small}");
    // By more: it grew, with the numbers.
    let (_, big) = squat_reading(&[
        squat_row(0, 1.0, 4.0, "ok", "", ""),
        squat_row(1, 0.8, 8.0, "ok", "", ""),
        squat_row(2, 0.6, 14.0, "ok", "", ""),
    ]);
    assert!(
        big.contains("grew from 4.0°") && big.contains("to 14.0°"),
        "{big}"
    );
}
