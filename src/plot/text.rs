//! Pure helpers for the words and labels of the figures and the report: numbers without
//! negative zero, ranges instead of long lists, and thinning of labels that would
//! overprint. No drawing happens here, so every rule is unit-tested.

/// `x` with `decimals` decimals, never "-0.0": a value that rounds to zero is printed
/// without a sign. NaN and infinities are printed as "–".
pub fn num(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A strength factor as a percentage with `decimals` decimals, e.g. 0.305 -> "30.5 %".
pub fn pct_dec(x: f64, decimals: usize) -> String {
    format!("{} %", num(x * 100.0, decimals))
}

/// The fewest decimals (0 to 3) at which the percentages of `values` that differ stay
/// different when printed: a 1000-run sweep needs "50.1 %" and "50.0 %", not "50 %"
/// twice.
pub fn pct_decimals(values: &[f64]) -> usize {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    (0..=3)
        .find(|&d| {
            let s: Vec<String> = v.iter().map(|&x| pct_dec(x, d)).collect();
            s.windows(2).all(|w| w[0] != w[1])
        })
        .unwrap_or(3)
}

/// The fewest decimals (0 to 3) at which each pair of percentages prints differently:
/// the values either side of each boundary a sentence names, so "down to 50 %; at 50 %
/// and weaker" cannot happen, without printing every value to the precision of the
/// closest pair in the whole sweep.
pub fn pct_decimals_pairs(pairs: &[(f64, f64)]) -> usize {
    (0..=3)
        .find(|&d| {
            pairs
                .iter()
                .filter(|(a, b)| (a - b).abs() > 1e-12)
                .all(|&(a, b)| pct_dec(a, d) != pct_dec(b, d))
        })
        .unwrap_or(3)
}

/// Runs of consecutive selected positions: `flags[i]` says whether the i-th point (in
/// the sweep's sorted order) is selected; the result is `(first, last)` index pairs,
/// each a maximal block of selected points.
pub fn blocks(flags: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &f) in flags.iter().enumerate() {
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, flags.len() - 1));
    }
    out
}

/// The selected points of a sweep as ranges of the swept value, e.g. "10–45 %" or
/// "10–20 % and 60 %", instead of a list of every value.
///
/// `xs` are the sorted parameter values of all points and `flags` says which are
/// selected; `fmt` prints one value. Blocks of consecutive selected points become
/// "a–b", single points "a". More than `max_blocks` blocks are summarised as "N values
/// between a and b".
pub fn summarise_ranges(
    xs: &[f64],
    flags: &[bool],
    max_blocks: usize,
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let b = blocks(flags);
    let n = flags.iter().filter(|f| **f).count();
    if b.is_empty() {
        return String::new();
    }
    if b.len() > max_blocks {
        let (lo, hi) = (xs[b[0].0], xs[b[b.len() - 1].1]);
        return format!("{n} values between {} and {}", fmt(lo), fmt(hi));
    }
    let parts: Vec<String> = b
        .iter()
        .map(|&(i, j)| {
            let (a, z) = (fmt(xs[i]), fmt(xs[j]));
            if i == j || a == z {
                a
            } else {
                // "10–45 %" rather than "10 %–45 %".
                let head = a.strip_suffix(" %").filter(|_| z.ends_with(" %"));
                format!("{}–{z}", head.unwrap_or(&a))
            }
        })
        .collect();
    join_and(&parts)
}

/// "a", "a and b", "a, b and c".
pub fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A label's box in pixels: left, top, width, height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelBox {
    /// Left edge (px).
    pub x: f64,
    /// Top edge (px).
    pub y: f64,
    /// Width (px).
    pub w: f64,
    /// Height (px).
    pub h: f64,
}

impl LabelBox {
    /// Whether two boxes overlap (touching edges do not count), with `gap` px to spare.
    pub fn overlaps(&self, o: &LabelBox, gap: f64) -> bool {
        self.x < o.x + o.w + gap
            && o.x < self.x + self.w + gap
            && self.y < o.y + o.h + gap
            && o.y < self.y + self.h + gap
    }

    /// Whether the point lies inside the box grown by `pad` px.
    pub fn contains(&self, (px, py): (f64, f64), pad: f64) -> bool {
        px >= self.x - pad
            && px <= self.x + self.w + pad
            && py >= self.y - pad
            && py <= self.y + self.h + pad
    }
}

/// Which labels to draw so that none overprints another: labels are considered in
/// `priority` order (indices into `boxes`, most important first) and one is kept only
/// if it overlaps no label kept before it. Returns a flag per box.
pub fn thin_labels(boxes: &[LabelBox], priority: &[usize], gap: f64) -> Vec<bool> {
    let mut keep = vec![false; boxes.len()];
    let mut kept: Vec<LabelBox> = Vec::new();
    for &i in priority {
        if i >= boxes.len() || keep[i] {
            continue;
        }
        if kept.iter().all(|k| !k.overlaps(&boxes[i], gap)) {
            keep[i] = true;
            kept.push(boxes[i]);
        }
    }
    keep
}

/// Of several candidate places for one label, the first that covers the fewest of
/// `points` (pixel positions of data: markers and samples along lines). Ties go to
/// the earlier candidate, so the preferred place wins when it is free.
pub fn least_covered(candidates: &[LabelBox], points: &[(f64, f64)], pad: f64) -> usize {
    let mut best = (usize::MAX, 0);
    for (k, c) in candidates.iter().enumerate() {
        let n = coverage(c, points, pad);
        if n < best.0 {
            best = (n, k);
        }
    }
    best.1
}

/// How many of `points` a label box (grown by `pad` px) covers.
pub fn coverage(b: &LabelBox, points: &[(f64, f64)], pad: f64) -> usize {
    points.iter().filter(|p| b.contains(**p, pad)).count()
}

/// Points along a polyline, at most `step` px apart, for [`least_covered`]: a label
/// must avoid the line between markers too, not only the markers.
pub fn densify(pts: &[(f64, f64)], step: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let n = (len / step.max(1.0)).ceil().max(1.0) as usize;
        for k in 0..n {
            let t = k as f64 / n as f64;
            out.push((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
        }
    }
    if let Some(l) = pts.last() {
        out.push(*l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_negative_zero() {
        assert_eq!(num(-0.0, 1), "0.0");
        assert_eq!(num(-0.04, 1), "0.0");
        assert_eq!(num(-0.04, 0), "0");
        assert_eq!(num(-0.05001, 1), "-0.1");
        assert_eq!(num(1.25, 1), "1.2");
        assert_eq!(num(f64::NAN, 1), "–");
        assert_eq!(pct_dec(-0.0001, 0), "0 %");
    }

    #[test]
    fn pct_decimals_separates_close_values() {
        assert_eq!(pct_decimals(&[0.1, 0.2, 0.3]), 0);
        assert_eq!(pct_decimals(&[0.5, 0.501, 0.502]), 1);
        assert_eq!(
            pct_decimals(&[0.5, 0.5, 0.6]),
            0,
            "equal values need no split"
        );
        assert_eq!(pct_decimals(&[0.50001, 0.50002]), 3, "capped at 3");
    }

    #[test]
    fn blocks_and_ranges() {
        assert_eq!(
            blocks(&[true, true, false, true, false, false, true]),
            vec![(0, 1), (3, 3), (6, 6)]
        );
        assert!(blocks(&[false, false]).is_empty());
        let xs: Vec<f64> = (1..=10).map(|i| i as f64 / 10.0).collect();
        let f = |x: f64| pct_dec(x, 0);
        let mut flags = vec![false; 10];
        for fl in flags.iter_mut().take(4) {
            *fl = true;
        }
        assert_eq!(summarise_ranges(&xs, &flags, 3, &f), "10–40 %");
        flags[7] = true;
        assert_eq!(summarise_ranges(&xs, &flags, 3, &f), "10–40 % and 80 %");
        let alt: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
        assert_eq!(
            summarise_ranges(&xs, &alt, 3, &f),
            "5 values between 10 % and 90 %"
        );
        // 1000 runs: one range, not a list of hundreds of "10 %".
        let xs: Vec<f64> = (0..1000).map(|i| 0.1 + 0.9 * i as f64 / 999.0).collect();
        let flags: Vec<bool> = xs.iter().map(|&x| x < 0.45).collect();
        let d = pct_decimals(&xs);
        let s = summarise_ranges(&xs, &flags, 3, &|x| pct_dec(x, d));
        // 0.09 % steps: two decimals keep 44.95 % and 45.05 % apart.
        assert_eq!(s, "10.00–44.95 %");
        let d = pct_decimals_pairs(&[(0.2, 0.3), (0.4995, 0.5004)]);
        assert_eq!(d, 2);
        assert_eq!(pct_decimals_pairs(&[(0.2, 0.3)]), 0);
    }

    #[test]
    fn join_words() {
        assert_eq!(join_and(&[]), "");
        assert_eq!(join_and(&["a".into()]), "a");
        assert_eq!(
            join_and(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn thinning_keeps_no_two_overlapping_labels() {
        // "fell 0.39 s" and "fell 0.38 s" at nearly the same place, plus one far away.
        let b = |x: f64, y: f64| LabelBox {
            x,
            y,
            w: 90.0,
            h: 18.0,
        };
        let boxes = [b(100.0, 100.0), b(104.0, 103.0), b(400.0, 100.0)];
        let keep = thin_labels(&boxes, &[0, 1, 2], 2.0);
        assert_eq!(keep, vec![true, false, true]);
        // Priority decides which of the two survives.
        let keep = thin_labels(&boxes, &[1, 0, 2], 2.0);
        assert_eq!(keep, vec![false, true, true]);
        // 1000 labels on one row of 1000 px: at most one per label width survives.
        let many: Vec<LabelBox> = (0..1000).map(|i| b(i as f64, 50.0)).collect();
        let order: Vec<usize> = (0..1000).collect();
        let kept = thin_labels(&many, &order, 2.0)
            .iter()
            .filter(|k| **k)
            .count();
        assert!((10..=11).contains(&kept), "{kept}");
    }

    #[test]
    fn least_covered_avoids_markers_and_lines() {
        let c = [
            LabelBox {
                x: 0.0,
                y: 0.0,
                w: 100.0,
                h: 20.0,
            },
            LabelBox {
                x: 0.0,
                y: 100.0,
                w: 100.0,
                h: 20.0,
            },
        ];
        // A marker inside the first candidate: the second wins.
        assert_eq!(least_covered(&c, &[(50.0, 10.0)], 0.0), 1);
        // Both free: the first (preferred) wins.
        assert_eq!(least_covered(&c, &[(500.0, 10.0)], 0.0), 0);
        // A line crossing the first candidate between two far markers.
        let line = densify(&[(-200.0, 10.0), (300.0, 10.0)], 5.0);
        assert_eq!(least_covered(&c, &line, 0.0), 1);
    }
}
