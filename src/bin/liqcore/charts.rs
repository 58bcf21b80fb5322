//! The run's two charts, drawn with plotters into SVG: the latency percentile plot
//! (`latency.svg`) and the cascade (`cascade.svg`).

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::report::{BUCKET_MS, Bucket, Collector, Latency};

/// Any drawing error, as text.
pub type ChartError = String;

fn err<E: std::fmt::Display>(e: E) -> ChartError {
    e.to_string()
}

/// A price line of the cascade chart: name, colour, which price, stroke width.
type Series = (&'static str, RGBColor, fn(&Bucket) -> i64, u32);

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The tick label of `x = 1/(1−p)`: the percentile, `"99.9%"`.
fn percentile_label(x: f64) -> String {
    let p = (1.0 - 1.0 / x) * 100.0;
    let text = format!("{p:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// A white SVG canvas of `size` with `title` and a grey subtitle line (indented `x` px) on
/// top; returns the area below them.
fn titled_canvas<'a>(
    path: &'a Path,
    size: (u32, u32),
    title: &str,
    (subtitle, x): (&str, i32),
) -> Result<DrawingArea<SVGBackend<'a>, Shift>, ChartError> {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(err)?;
    let (top, body) = root.split_vertically(24);
    top.draw(&Text::new(
        subtitle.to_string(),
        (x, 4),
        ("sans-serif", 14).into_font().color(&RGBColor(90, 90, 90)),
    ))
    .map_err(err)?;
    Ok(body)
}

/// Latency percentile plot: x = 1/(1−percentile) on a log axis (labelled 50 % … 99.999 %),
/// y = latency in µs on a log axis, one line per histogram.
///
/// # Errors
///
/// A drawing or file error.
pub fn latency_svg(
    path: &Path,
    latency: &[Latency],
    subtitle: &str,
    note: &str,
) -> Result<(), ChartError> {
    let body = titled_canvas(
        path,
        (1000, 760),
        "liqcore run — latency by percentile (per stage and end to end)",
        (subtitle, 60),
    )?;
    let rows = latency.len() as i32;
    let height = body.dim_in_pixel().1 as i32;
    let (body, legend) = body.split_vertically(height - 22 * rows - 30);

    let mut y_max = 1.0f64;
    let mut y_min = f64::MAX;
    for l in latency {
        if !l.histogram.is_empty() {
            y_max = y_max.max(l.histogram.max() as f64 / 1000.0);
            y_min = y_min.min(l.histogram.min().max(1) as f64 / 1000.0);
        }
    }
    if y_min == f64::MAX {
        y_min = 0.01;
    }
    let y_range = (y_min * 0.8).max(0.001)..(y_max * 1.5);
    let x_range = 1.0f64..100_000.0;
    let mut chart = ChartBuilder::on(&body)
        .margin(16)
        .margin_right(40)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(
            x_range
                .log_scale()
                .with_key_points(vec![2.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0]),
            y_range.log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("percentile (log scale of 1/(1 − p))")
        .y_desc("latency, µs (log scale)")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.2}")
            }
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, l) in latency.iter().enumerate() {
        if l.histogram.is_empty() {
            continue;
        }
        let color = COLORS[i % COLORS.len()];
        let points: Vec<(f64, f64)> = l
            .histogram
            .iter_quantiles(5)
            .filter(|v| v.quantile_iterated_to() < 0.999_999)
            .map(|v| {
                (
                    1.0 / (1.0 - v.quantile_iterated_to()),
                    (v.value_iterated_to().max(1) as f64) / 1000.0,
                )
            })
            .collect();
        let label = format!(
            "{}: p50 {:.2} µs · p99 {:.2} µs · max {:.1} µs",
            l.name,
            l.histogram.value_at_percentile(50.0) as f64 / 1000.0,
            l.histogram.value_at_percentile(99.0) as f64 / 1000.0,
            l.histogram.max() as f64 / 1000.0
        );
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?;
        // The legend sits under the plot, so it never hides a line.
        let (x, y) = (90, 4 + 22 * i as i32);
        legend
            .draw(&PathElement::new(
                vec![(x, y + 8), (x + 24, y + 8)],
                color.stroke_width(3),
            ))
            .map_err(err)?;
        legend
            .draw(&Text::new(label, (x + 32, y), ("sans-serif", 13)))
            .map_err(err)?;
    }
    legend
        .draw(&Text::new(
            note.to_string(),
            (90, 8 + 22 * rows),
            ("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(err)?;
    legend.present().map_err(err)?;
    Ok(())
}

/// One panel of the cascade chart: time from the crash start across, `y` up, with its mesh.
fn time_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    time: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, ChartError>
where
    DB::ErrorType: 'static,
{
    let mut panel = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(time, y)
        .map_err(err)?;
    panel
        .configure_mesh()
        .x_desc("seconds from the crash start (logical time)")
        .y_desc(y_desc)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    Ok(panel)
}

/// The cascade chart of symbol 0: index, mark and last trade price (with each 100 ms's trade
/// range as a thin bar) over logical time from 10 s before the crash to the end, and the
/// liquidated quantity per 100 ms as bars below.
///
/// # Errors
///
/// A drawing or file error.
pub fn cascade_svg(
    path: &Path,
    collector: &Collector,
    last: Option<&Collector>,
    tick: f64,
    lot: f64,
    subtitle: &str,
) -> Result<(), ChartError> {
    let Some(list) = collector.buckets.first() else {
        return Err("no symbol".to_string());
    };
    let config = collector.config();
    let crash = config.crash_start_ms() as f64 / 1000.0;
    let from = (config.crash_start_ms().saturating_sub(10_000) / BUCKET_MS) as usize;
    let to = ((config.end_ms() / BUCKET_MS) as usize).min(list.len().saturating_sub(1));
    let window = &list[from.min(to)..=to];
    let t = |i: usize| ((from + i) as u64 * BUCKET_MS) as f64 / 1000.0 - crash;
    let price = |ticks: i64| ticks as f64 * tick;

    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    for b in window {
        for p in [b.index, b.mark, b.last, b.low, b.high] {
            if p > 0 {
                lo = lo.min(price(p));
                hi = hi.max(price(p));
            }
        }
    }
    if lo > hi {
        lo = 0.0;
        hi = 1.0;
    }
    let pad = (hi - lo) * 0.05 + tick;
    let last_window = last
        .and_then(|c| c.buckets.first())
        .map(|l| &l[from.min(to)..=to.min(l.len().saturating_sub(1))]);
    let max_liq = window
        .iter()
        .chain(last_window.into_iter().flatten())
        .map(|b| b.liquidated as f64 * lot)
        .fold(0.0f64, f64::max)
        .max(lot);
    let (t0, t1) = (t(0), t(window.len().saturating_sub(1)).max(t(0) + 0.1));

    let rest = titled_canvas(
        path,
        (1100, 720),
        "liqcore run — the liquidation cascade (symbol 0)",
        (subtitle, 70),
    )?;
    let (upper, lower) = rest.split_vertically(470);

    let mut chart = time_panel(&upper, t0..t1, (lo - pad)..(hi + pad), "price (quote)")?;

    let wick = RGBColor(255, 160, 160);
    chart
        .draw_series(
            window
                .iter()
                .enumerate()
                .filter(|(_, b)| b.low > 0)
                .map(|(i, b)| {
                    PathElement::new(
                        vec![(t(i), price(b.low)), (t(i), price(b.high))],
                        wick.stroke_width(2),
                    )
                }),
        )
        .map_err(err)?
        .label("trade range in each 100 ms (low–high)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 20, y + 4)], wick.filled()));
    // The index wide and light underneath, the mark thin and dark on top: where they agree
    // both stay visible.
    let series: [Series; 3] = [
        ("index", RGBColor(120, 180, 230), |b| b.index, 6),
        ("last trade", RGBColor(214, 39, 40), |b| b.last, 1),
        ("mark price", BLACK, |b| b.mark, 2),
    ];
    for (name, color, get, width) in series {
        let points: Vec<(f64, f64)> = window
            .iter()
            .enumerate()
            .filter(|(_, b)| get(b) > 0)
            .map(|(i, b)| (t(i), price(get(b))))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(width)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(width.min(4)))
            });
    }
    // Point at the deepest wick below the index.
    if let Some((i, b)) = window
        .iter()
        .enumerate()
        .filter(|(_, b)| b.low > 0 && b.index > 0)
        .max_by_key(|(_, b)| (b.index - b.low) * 1_000_000 / b.index)
        && b.low < b.index
    {
        let depth = (b.index - b.low) as f64 * 100.0 / b.index as f64;
        let (x, y) = (t(i), price(b.low));
        chart
            .draw_series(std::iter::once(Circle::new((x, y), 4, RED.filled())))
            .map_err(err)?;
        let lines = [
            format!(
                "wick: a trade at {:.1}, {depth:.1} % under the index",
                price(b.low)
            ),
            format!(
                "mark stayed at {:.1} (index {:.1})",
                price(b.mark),
                price(b.index)
            ),
        ];
        for (k, line) in lines.iter().enumerate() {
            chart
                .draw_series(std::iter::once(Text::new(
                    line.clone(),
                    (
                        x + (t1 - t0) * 0.015,
                        y + (hi - lo) * (0.03 - 0.045 * k as f64),
                    ),
                    ("sans-serif", 14).into_font().color(&RGBColor(160, 20, 20)),
                )))
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;

    let mut bars = time_panel(&lower, t0..t1, 0.0..max_liq * 1.1, "liquidated per 100 ms")?;
    let bar = RGBColor(148, 103, 189);
    let width = BUCKET_MS as f64 / 1000.0;
    bars.draw_series(
        window
            .iter()
            .enumerate()
            .filter(|(_, b)| b.liquidated > 0)
            .map(|(i, b)| {
                Rectangle::new(
                    [(t(i), 0.0), (t(i) + width * 0.9, b.liquidated as f64 * lot)],
                    bar.filled(),
                )
            }),
    )
    .map_err(err)?
    .label("sent in liquidation orders (base units), mark price")
    .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 20, y + 4)], bar.filled()));
    if let Some(last_window) = last_window {
        let outline = RGBColor(230, 120, 0);
        bars.draw_series(
            last_window
                .iter()
                .enumerate()
                .filter(|(_, b)| b.liquidated > 0)
                .map(|(i, b)| {
                    Rectangle::new(
                        [(t(i), 0.0), (t(i) + width * 0.9, b.liquidated as f64 * lot)],
                        outline.stroke_width(1),
                    )
                }),
        )
        .map_err(err)?
        .label("the same scenario marked at the last trade")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 4), (x + 20, y + 4)], outline.stroke_width(1))
        });
    }
    bars.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    rest.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::report::Observation;
    use hdrhistogram::Histogram;
    use liqcore::scenario::ScenarioConfig;

    /// A synthetic cascade: the index falls 15 % over the crash, the last trade wicks 5 %
    /// under it once, liquidations every 100 ms.
    fn synthetic() -> Collector {
        let config = ScenarioConfig::with_accounts(10);
        let mut c = Collector::new(&config);
        let (start, end) = (config.crash_start_ms() - 10_000, config.end_ms());
        let mut ts = start;
        while ts <= end {
            let fall = if ts < config.crash_start_ms() {
                0
            } else {
                ((ts - config.crash_start_ms()).min(config.crash_ms) * 90_000 / config.crash_ms)
                    as i64
            };
            let index = 600_000 - fall;
            c.observe(Observation::Index {
                symbol: 0,
                ts,
                price: index,
            });
            c.observe(Observation::Mark {
                symbol: 0,
                ts,
                price: index,
            });
            let wick = ts == config.crash_end_ms() - 100;
            let price = if wick { index * 95 / 100 } else { index - 3 };
            c.observe(Observation::Trade {
                symbol: 0,
                ts,
                price,
                qty: 5,
                liquidation: false,
            });
            if fall > 0 && ts < config.crash_end_ms() {
                c.observe(Observation::Liquidation {
                    symbol: 0,
                    ts,
                    qty: 1_000 + fall / 10,
                });
            }
            ts += 100;
        }
        c.finish();
        c
    }

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("liqcore-{}-{name}", std::process::id()))
    }

    #[test]
    fn cascade_chart_has_its_titles_labels_legend_and_wick() {
        let c = synthetic();
        let path = temp("cascade.svg");
        cascade_svg(&path, &c, Some(&c), 0.1, 0.001, "synthetic").unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        for needle in [
            "the liquidation cascade",
            "seconds from the crash start",
            "price (quote)",
            "liquidated per 100 ms",
            "index",
            "mark price",
            "last trade",
            "marked at the last trade",
            "5.0 % under the index",
        ] {
            assert!(svg.contains(needle), "no {needle:?}");
        }
    }

    #[test]
    fn latency_chart_labels_the_percentiles_and_every_line() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in 1..=100_000u64 {
            h.record(100 + v % 997 + v / 1000).unwrap();
        }
        let lines = [
            Latency {
                name: "risk.service".into(),
                histogram: h.clone(),
            },
            Latency {
                name: "e2e.order_to_report".into(),
                histogram: h,
            },
        ];
        let path = temp("latency.svg");
        latency_svg(&path, &lines, "synthetic", "a note").unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        for needle in [
            "latency by percentile",
            "50%",
            "90%",
            "99%",
            "99.9%",
            "99.99%",
            "latency, µs",
            "risk.service",
            "e2e.order_to_report",
            "a note",
        ] {
            assert!(svg.contains(needle), "no {needle:?}");
        }
    }

    #[test]
    fn percentile_labels() {
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(10_000.0), "99.99%");
        assert_eq!(percentile_label(1.0), "0%");
    }
}
