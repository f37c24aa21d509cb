//! Plotting from a small recorded output (`tests/data/plot_fixture/`): every figure is
//! written, decodes, has the expected size, and the GIF has the planned frame count.
//!
//! The fixture is three short runs of `scenarios/single_leg_stance.toml` (0.6 s, time
//! series trimmed to the hip muscles and every other row): abductors at 30 %, the same
//! with glute max at 200 % ("squats"), and abductors at 60 % ("abductor training").

use hipdrop::plot::{gif_frame_plan, plot_dir, read_summary, select_comparisons, PlotOptions};
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

fn gif_frames(p: &Path) -> (usize, (u16, u16)) {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut d = opts
        .read_info(std::fs::File::open(p).unwrap())
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", p.display()));
    let size = (d.width(), d.height());
    let mut n = 0;
    while d.read_next_frame().unwrap().is_some() {
        n += 1;
    }
    (n, size)
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
    let (n, size) = gif_frames(&dir.join("figures/run_0000_stance.gif"));
    assert_eq!(n, frames);
    assert_eq!(size, (600, 760));
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
    // 31 rows, all shown, plus the hold frames.
    let (s, n) = gif_frame_plan(31, 120);
    assert_eq!(s, 1);
    assert_eq!(n, 31 + hipdrop::plot::GIF_HOLD_FRAMES);
    // 201 rows into at most 120 frames: every other row (0, 2, ..., 200).
    let (s, n) = gif_frame_plan(201, 120);
    assert_eq!(s, 2);
    assert_eq!(n, 101 + hipdrop::plot::GIF_HOLD_FRAMES);
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
        html.contains("at 30 % of normal strength, the pelvis dropped"),
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
