//! The fleet graph drawn as SVG on the server (readable without JavaScript): agents on the
//! left, connectors on the right, an edge for each connector an agent declares or called,
//! its width growing with the calls of the window (log scale, so one busy agent does not
//! flatten the rest); declared and unused dashed, called without declaring it in red.
//! Each agent links to its page, each connector to the graph filtered to it.

use arx_core::engine::FleetGraph;

use super::graph_svg::esc;

const ROW: i32 = 24;
const TOP: i32 = 34;
const LEFT_W: i32 = 300;
const RIGHT_X: i32 = 560;

/// The stroke width of an edge of `calls` when the busiest has `max`: 1 for none, then
/// 1.5 to 8 on a log scale.
fn width(calls: i64, max: i64) -> f64 {
    if calls <= 0 || max <= 0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let (c, m) = (calls as f64, max as f64);
    1.5 + 6.5 * (1.0 + c).ln() / (1.0 + m).ln()
}

fn plural(n: i64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The SVG of `g` (an `<svg>` element, scaled to its box by its `viewBox`).
pub fn fleet_svg(g: &FleetGraph) -> String {
    let n = i32::try_from(g.agents.len())
        .unwrap_or(i32::MAX / ROW)
        .max(1);
    let m = i32::try_from(g.connectors.len()).unwrap_or(1).max(1);
    let span = (n * ROW).max(m * ROW);
    let height = TOP + span + 60;
    let max = g
        .agents
        .iter()
        .flat_map(|a| a.edges.iter().map(|e| e.calls))
        .max()
        .unwrap_or(0);
    let agent_y = |i: usize| TOP + i32::try_from(i).unwrap_or(0) * ROW + ROW / 2;
    let conn_y = |j: usize| TOP + (2 * i32::try_from(j).unwrap_or(0) + 1) * span / (2 * m);
    let mut edges = String::new();
    let mut nodes = String::new();
    for (i, a) in g.agents.iter().enumerate() {
        let ay = agent_y(i);
        for e in &a.edges {
            let Some(j) = g.connectors.iter().position(|c| c.name == e.connector) else {
                continue;
            };
            let cy = conn_y(j);
            let (color, dash, how) = match (e.declared, e.calls) {
                (false, _) => ("#c01048", "", "called without declaring it"),
                (true, 0) => ("#98a2b3", " stroke-dasharray=\"4 4\"", "declared, no calls"),
                (true, _) => ("#5b6474", "", "declared"),
            };
            edges.push_str(&format!(
                "<path d=\"M{LEFT_W} {ay} C {} {ay}, {} {cy}, {RIGHT_X} {cy}\" fill=\"none\" stroke=\"{color}\" stroke-opacity=\"0.7\" stroke-width=\"{:.1}\"{dash} data-edge=\"{}\" data-calls=\"{}\" data-declared=\"{}\"><title>{}</title></path>",
                LEFT_W + 120,
                RIGHT_X - 120,
                width(e.calls, max),
                esc(&format!("{}→{}", a.name, e.connector)),
                e.calls,
                e.declared,
                esc(&format!(
                    "{} → {}: {} in {} days ({how})",
                    a.name,
                    e.connector,
                    plural(e.calls, "call"),
                    g.window_days
                )),
            ));
        }
        let status = match a.status {
            arx_core::model::AgentStatus::Active => String::new(),
            s => format!(" · {}", s.as_str()),
        };
        nodes.push_str(&format!(
            "<g data-agent=\"{}\"><a href=\"/agents/view?id={}\"><text x=\"10\" y=\"{}\" class=\"g-connector\">{}</text></a>\
             <text x=\"{}\" y=\"{}\" class=\"g-note\" text-anchor=\"end\">{}{}</text>\
             <circle cx=\"{LEFT_W}\" cy=\"{ay}\" r=\"3.5\" fill=\"#151a23\"/></g>",
            esc(&a.name),
            a.id,
            ay + 4,
            esc(&trim(&a.name, 18)),
            LEFT_W - 8,
            ay + 4,
            esc(&plural(a.calls, "call")),
            esc(&status),
        ));
    }
    for (j, c) in g.connectors.iter().enumerate() {
        let cy = conn_y(j);
        nodes.push_str(&format!(
            "<g data-connector=\"{}\"><rect x=\"{RIGHT_X}\" y=\"{}\" width=\"250\" height=\"22\" rx=\"6\" fill=\"#fff\" stroke=\"#5b6474\"/>\
             <a href=\"/agents/graph?connector={}\"><text x=\"{}\" y=\"{}\" class=\"g-connector\">{}</text></a>\
             <text x=\"{}\" y=\"{}\" class=\"g-note\" text-anchor=\"end\">{}</text></g>",
            esc(&c.name),
            cy - 11,
            esc(&c.name),
            RIGHT_X + 8,
            cy + 4,
            esc(&c.name),
            RIGHT_X + 244,
            cy + 4,
            esc(&format!(
                "{} · {}",
                plural(i64::try_from(c.agents).unwrap_or(0), "agent"),
                plural(c.calls, "call")
            )),
        ));
    }
    let legend_y = height - 24;
    let summary = format!(
        "Fleet graph: {} agents, {} connectors, calls of the last {} days",
        g.agents.len(),
        g.connectors.len(),
        g.window_days
    );
    format!(
        "<svg viewBox=\"0 0 820 {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\" class=\"graph\" data-testid=\"fleet-graph\" xmlns=\"http://www.w3.org/2000/svg\">\
         <text x=\"10\" y=\"18\" class=\"g-head\">agents</text><text x=\"{RIGHT_X}\" y=\"18\" class=\"g-head\">connectors</text>\
         {edges}{nodes}\
         <g class=\"g-legend\"><path d=\"M10 {legend_y} h30\" stroke=\"#5b6474\" stroke-width=\"4\"/><text x=\"46\" y=\"{}\">declared and called (wider: more calls)</text>\
         <path d=\"M290 {legend_y} h30\" stroke=\"#98a2b3\" stroke-dasharray=\"4 4\"/><text x=\"326\" y=\"{}\">declared, no calls</text>\
         <path d=\"M460 {legend_y} h30\" stroke=\"#c01048\" stroke-width=\"3\"/><text x=\"496\" y=\"{}\">called without declaring it</text></g></svg>",
        esc(&summary),
        legend_y + 4,
        legend_y + 4,
        legend_y + 4,
    )
}

/// `s` cut to `n` characters with an ellipsis (the full name is on the agent's page).
fn trim(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}
