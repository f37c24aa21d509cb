//! Fonts, colours and the clinical reference values drawn into the figures.

use plotters::style::{FontStyle, RGBColor};
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/LICENSE`), bundled so text renders
/// without fontconfig or freetype on the machine.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold, same licence.
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The family name every figure uses.
pub const FONT: &str = "sans-serif";

/// Register the bundled fonts with plotters once per process.
///
/// Returns an error message if the bundled font data cannot be parsed (a corrupt build).
pub fn register_fonts() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        for (style, bytes) in [
            (FontStyle::Normal, DEJAVU_SANS),
            (FontStyle::Bold, DEJAVU_SANS_BOLD),
        ] {
            plotters::style::register_font(FONT, style, bytes)
                .map_err(|_| "the bundled DejaVu Sans font could not be parsed".to_string())?;
        }
        Ok(())
    })
    .clone()
}

/// Stance leg, stance-side pelvis: blue.
pub const STANCE: RGBColor = RGBColor(31, 100, 190);
/// Swing leg, swing-side pelvis: orange.
pub const SWING: RGBColor = RGBColor(235, 120, 20);
/// Glute med line of action and its data series.
pub const GLUT_MED: RGBColor = RGBColor(200, 30, 45);
/// Glute min.
pub const GLUT_MIN: RGBColor = RGBColor(130, 60, 170);
/// Glute max.
pub const GLUT_MAX: RGBColor = RGBColor(30, 130, 70);
/// Tensor fasciae latae.
pub const TFL: RGBColor = RGBColor(120, 95, 60);
/// Trunk, head and neutral lines.
pub const TRUNK: RGBColor = RGBColor(70, 70, 70);
/// Reference lines (Trendelenburg 2 cm line).
pub const REFERENCE: RGBColor = RGBColor(200, 0, 0);
/// Healthy reference band.
pub const HEALTHY: RGBColor = RGBColor(40, 150, 70);
/// Patellofemoral-pain reference band.
pub const PFP: RGBColor = RGBColor(190, 60, 150);
/// Light grey for "start" ghosts and grids.
pub const GHOST: RGBColor = RGBColor(185, 185, 185);
/// Markers for runs that lost balance.
pub const FELL: RGBColor = RGBColor(20, 20, 20);
/// Markers for runs that diverged.
pub const DIVERGED: RGBColor = RGBColor(120, 120, 120);

/// The Trendelenburg sign is positive when the swing-side pelvis drops more than this (cm).
/// Magee, Orthopedic Physical Assessment; Hardcastle & Nade 1985, JBJS-Br 67-B:741.
pub const TRENDELENBURG_CM: f64 = 2.0;
/// Citation for [`TRENDELENBURG_CM`].
pub const TRENDELENBURG_CITE: &str = "Hardcastle & Nade 1985";

/// FPPA in a single-leg squat (deg), female controls, mean and SD. Herrington 2014, Knee 21:514.
pub const FPPA_HEALTHY: (f64, f64) = (8.4, 5.1);
/// FPPA in a single-leg squat (deg), females with patellofemoral pain, mean and SD. Herrington 2014.
pub const FPPA_PFP: (f64, f64) = (16.8, 5.4);
/// Citation for the FPPA references.
pub const FPPA_CITE: &str = "Herrington 2014, single-leg squat";
/// The report calls the knee "caving in" (visible valgus) only above this FPPA (deg): the
/// smallest detectable difference of 2D FPPA, 7.5-8.9 deg (Munro, Herrington & Carolan
/// 2012, J Sport Rehabil 21:7). A smaller angle cannot be told from a straight knee on video.
pub const FPPA_VISIBLE_DEG: f64 = 7.5;
/// The upper end of the 2D FPPA smallest detectable difference, 7.5-8.9 deg (Munro,
/// Herrington & Carolan 2012).
pub const FPPA_SDD_HIGH_DEG: f64 = 8.9;
/// Citation for [`FPPA_VISIBLE_DEG`].
pub const FPPA_VISIBLE_CITE: &str = "Munro, Herrington & Carolan 2012";
/// A compartment counts as saturated at this activation (as `hip_abductors_saturated`).
pub const SATURATED_ACTIVATION: f64 = 0.95;

/// In-vivo hip contact force in one-legged stance (BW), mean and SD. Bergmann et al. 2016.
pub const HIP_CONTACT_INVIVO: (f64, f64) = (2.61, 0.29);
/// Citation for [`HIP_CONTACT_INVIVO`].
pub const HIP_CONTACT_CITE: &str = "OrthoLoad, Bergmann 2016";

/// A colour between `a` and `b` (t in 0..1).
pub fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let f = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(f(a.0, b.0), f(a.1, b.1), f(a.2, b.2))
}

/// Sequential colour for a run in a sweep, from weak (t = 0, red) to strong (t = 1, blue).
pub fn ramp(t: f64) -> RGBColor {
    let stops = [
        RGBColor(200, 30, 30),
        RGBColor(235, 150, 30),
        RGBColor(120, 170, 60),
        RGBColor(30, 100, 190),
    ];
    let t = t.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
    let i = (t.floor() as usize).min(stops.len() - 2);
    mix(stops[i], stops[i + 1], t - i as f64)
}

/// Heat-map colour for a pelvic drop (cm): pale at 0, amber at the 2 cm Trendelenburg
/// line, dark red at twice that and beyond. Fixed, so maps from different runs compare.
pub fn heat(cm: f64) -> RGBColor {
    let t = (cm / (2.0 * TRENDELENBURG_CM)).clamp(0.0, 1.0);
    if t < 0.5 {
        mix(RGBColor(255, 252, 235), RGBColor(250, 190, 50), t / 0.5)
    } else {
        mix(
            RGBColor(250, 190, 50),
            RGBColor(160, 15, 15),
            (t - 0.5) / 0.5,
        )
    }
}

/// Heat-map colour for a run that held the stance with the pelvis level (never past 2 cm).
pub const HELD_LEVEL: RGBColor = RGBColor(185, 225, 180);
/// Heat-map colour for a run that did not settle but never passed 2 cm.
pub const NOT_SETTLED: RGBColor = RGBColor(205, 195, 232);

/// Heat-map colour for the time until the pelvic drop passed 2 cm, as a fraction `f`
/// of the longest run: dark red at once (f = 0), orange, pale amber late (f = 1).
pub fn time_heat(f: f64) -> RGBColor {
    let f = f.clamp(0.0, 1.0);
    if f < 0.5 {
        mix(RGBColor(120, 0, 10), RGBColor(235, 110, 30), f / 0.5)
    } else {
        mix(
            RGBColor(235, 110, 30),
            RGBColor(252, 225, 140),
            (f - 0.5) / 0.5,
        )
    }
}
