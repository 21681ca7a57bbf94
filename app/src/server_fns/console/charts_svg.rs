//! The overview's two 7-day charts, drawn as SVG on the server (readable without
//! JavaScript): calls per UTC day stacked by verdict, and risk per UTC day (highest,
//! 95th percentile, median). Each carries a `<title>` and a `<desc>` that state the
//! window and every figure, for screen readers; the page adds a table of the same.
//! Only numbers and dates go into the markup: nothing here comes from a user.

use arx_core::model::stats::{DayCalls, DayRisk};

const W: i64 = 640;
const H: i64 = 220;
const LEFT: i64 = 40;
const TOP: i64 = 14;
const PLOT_H: i64 = 160;
const PLOT_W: i64 = W - LEFT - 10;
const PERMIT: &str = "#2f9e5b";
const ESCALATE: &str = "#e0a400";
const DENY: &str = "#d64535";

/// `YYYY-MM-DD` of a day's first millisecond.
pub fn day_label(day_ms: i64) -> String {
    arx_core::audit::format_ts(day_ms)
        .chars()
        .take(10)
        .collect()
}

/// `MM-DD`, under a bar.
fn short(day_ms: i64) -> String {
    day_label(day_ms).chars().skip(5).collect()
}

/// The y of `v` on a scale whose top is `max`.
fn y(v: u64, max: u64) -> i64 {
    let h = (v as f64 / max.max(1) as f64 * PLOT_H as f64).round() as i64;
    TOP + PLOT_H - h
}

fn frame(id: &str, title: &str, desc: &str, body: &str, max: u64, legend: &str) -> String {
    let base = TOP + PLOT_H;
    format!(
        "<svg viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" class=\"chart\" \
         aria-labelledby=\"{id}-t {id}-d\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-t\">{title}</title><desc id=\"{id}-d\">{desc}</desc>\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{}\" y2=\"{TOP}\" class=\"c-grid\"/>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" class=\"c-axis\"/>\
         <text x=\"{}\" y=\"{}\" class=\"c-tick\" text-anchor=\"end\">{max}</text>\
         <text x=\"{}\" y=\"{}\" class=\"c-tick\" text-anchor=\"end\">0</text>\
         {body}<g class=\"c-legend\">{legend}</g></svg>",
        LEFT + PLOT_W,
        LEFT + PLOT_W,
        LEFT - 6,
        TOP + 4,
        LEFT - 6,
        base + 4,
    )
}

fn legend(items: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut x = LEFT;
    for (color, label) in items {
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{}\">{label}</text>",
            H - 14,
            x + 14,
            H - 5
        ));
        x += 14 + 8 * i64::try_from(label.len()).unwrap_or(10) + 16;
    }
    out
}

/// Where the day `i` of `n` sits: its left edge and width.
fn slot(i: usize, n: usize) -> (i64, i64) {
    let n = i64::try_from(n.max(1)).unwrap_or(1);
    let i = i64::try_from(i).unwrap_or(0);
    let step = PLOT_W / n;
    (LEFT + i * step + step / 5, step * 3 / 5)
}

fn day_tick(x: i64, w: i64, day_ms: i64) -> String {
    format!(
        "<text x=\"{}\" y=\"{}\" class=\"c-tick\" text-anchor=\"middle\">{}</text>",
        x + w / 2,
        TOP + PLOT_H + 16,
        short(day_ms)
    )
}

/// Calls per UTC day, stacked permit (bottom), escalate, deny.
pub fn calls_chart(days: &[DayCalls], window: &str) -> String {
    let max = days
        .iter()
        .map(|d| d.verdicts.total())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut body = String::new();
    let mut desc = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let (x, w) = slot(i, days.len());
        let v = d.verdicts;
        let mut below = 0;
        for (n, color, name) in [
            (v.permit, PERMIT, "permitted"),
            (v.escalate, ESCALATE, "escalated"),
            (v.deny, DENY, "denied"),
        ] {
            if n > 0 {
                let (top, bottom) = (y(below + n, max), y(below, max));
                body.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{top}\" width=\"{w}\" height=\"{}\" fill=\"{color}\">\
                     <title>{}: {n} {name}</title></rect>",
                    (bottom - top).max(1),
                    day_label(d.day_ms)
                ));
            }
            below += n;
        }
        body.push_str(&day_tick(x, w, d.day_ms));
        desc.push(format!(
            "{}: {} calls, {} permitted, {} escalated, {} denied",
            day_label(d.day_ms),
            v.total(),
            v.permit,
            v.escalate,
            v.deny
        ));
    }
    frame(
        "calls-chart",
        &format!("Agent calls per day by verdict, {window}"),
        &desc.join("; "),
        &body,
        max,
        &legend(&[
            (PERMIT, "permitted"),
            (ESCALATE, "escalated"),
            (DENY, "denied"),
        ]),
    )
}

/// Risk per UTC day: the highest score as a bar, the 95th percentile and the median as
/// marks across it.
pub fn risk_chart(days: &[DayRisk], window: &str) -> String {
    const MAX: u64 = 100;
    let mut body = String::new();
    let mut desc = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let (x, w) = slot(i, days.len());
        body.push_str(&day_tick(x, w, d.day_ms));
        let (Some(max), Some(p95), Some(median)) = (d.max(), d.quantile(0.95), d.quantile(0.5))
        else {
            desc.push(format!("{}: no calls", day_label(d.day_ms)));
            continue;
        };
        let top = y(u64::from(max), MAX);
        body.push_str(&format!(
            "<rect x=\"{x}\" y=\"{top}\" width=\"{w}\" height=\"{}\" fill=\"#fde7e5\" stroke=\"{DENY}\">\
             <title>{}: highest {max}</title></rect>",
            (TOP + PLOT_H - top).max(1),
            day_label(d.day_ms)
        ));
        for (v, color, name) in [
            (p95, "#e2711d", "95th percentile"),
            (median, "#151a23", "median"),
        ] {
            let my = y(u64::from(v), MAX);
            body.push_str(&format!(
                "<line x1=\"{x}\" y1=\"{my}\" x2=\"{}\" y2=\"{my}\" stroke=\"{color}\" stroke-width=\"3\">\
                 <title>{}: {name} {v}</title></line>",
                x + w,
                day_label(d.day_ms)
            ));
        }
        desc.push(format!(
            "{}: {} calls, highest risk {max}, 95th percentile {p95}, median {median}",
            day_label(d.day_ms),
            d.calls()
        ));
    }
    frame(
        "risk-chart",
        &format!("Risk score of agent calls per day (0 to 100), {window}"),
        &desc.join("; "),
        &body,
        MAX,
        &legend(&[
            (DENY, "highest"),
            ("#e2711d", "95th percentile"),
            ("#151a23", "median"),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arx_core::model::stats::{DAY_MS, VerdictMix};

    #[test]
    fn the_charts_say_their_window_and_every_figure() {
        let days = [
            DayCalls {
                day_ms: 20_000 * DAY_MS,
                verdicts: VerdictMix {
                    permit: 3,
                    escalate: 1,
                    deny: 2,
                },
            },
            DayCalls {
                day_ms: 20_001 * DAY_MS,
                verdicts: VerdictMix::default(),
            },
        ];
        let svg = calls_chart(&days, "last 7 days, UTC days");
        assert!(svg.contains("<title id=\"calls-chart-t\">Agent calls per day by verdict, last 7 days, UTC days</title>"));
        assert!(
            svg.contains("2024-10-04: 6 calls, 3 permitted, 1 escalated, 2 denied"),
            "{svg}"
        );
        assert!(svg.contains("2024-10-05: 0 calls"));
        assert_eq!(
            svg.matches("<rect x=").count(),
            3 + 3,
            "three segments and the legend"
        );
        let risk = [DayRisk {
            day_ms: 20_000 * DAY_MS,
            scores: vec![(10, 18), (70, 1), (95, 1)],
        }];
        let svg = risk_chart(&risk, "last 7 days, UTC days");
        assert!(
            svg.contains("highest risk 95, 95th percentile 70, median 10"),
            "{svg}"
        );
    }
}
