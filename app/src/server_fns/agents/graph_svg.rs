//! The connector graph drawn as SVG on the server (readable without JavaScript): the
//! agent, its connectors with their instances (one the manifest's environments do not
//! reach in grey italics, with a tooltip saying why), and their operations; writes in orange, reads in grey, what it
//! tried without declaring it dashed in red with how often, personal data marked; an
//! operation the policy in force gates (ESCALATE or DENY) has a lock and the verdict and
//! rule beside it.

use arx_core::registry::Graph;

const ROW: i32 = 26;
const GAP: i32 = 12;
const TOP: i32 = 34;
/// The width drawn: room for a long operation id, its notes and the rule that gates it.
const WIDTH: i32 = 1060;
/// The most characters of a rule id shown beside an operation (the JSON has it whole).
const RULE_CHARS: usize = 24;

/// `s` as SVG text or attribute: every character markup could read escaped.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The height of one instance's line in a connector's box.
const INSTANCE_ROW: i32 = 16;

/// The rows a connector takes: one per operation, or enough for its box of instances.
fn rows_of(c: &arx_core::registry::GraphConnector) -> i32 {
    let ops = i32::try_from(c.operations.len().max(1)).unwrap_or(1);
    let box_height = 24 + i32::try_from(c.instances.len()).unwrap_or(0) * INSTANCE_ROW;
    ops.max((box_height + ROW - 1) / ROW)
}

/// The SVG of `g` (an `<svg>` element, scaled to its box by its `viewBox`).
pub fn graph_svg(g: &Graph) -> String {
    let ops: usize = g.connectors.iter().map(|c| c.operations.len().max(1)).sum();
    let rows: i32 = g.connectors.iter().map(rows_of).sum();
    let groups = i32::try_from(g.connectors.len()).unwrap_or(0);
    let height = TOP + rows * ROW + groups * GAP + 90;
    let mut body = String::new();
    let mut y = TOP;
    let mut centers = Vec::new();
    for c in &g.connectors {
        let n = rows_of(c);
        let ops_n = i32::try_from(c.operations.len().max(1)).unwrap_or(1);
        let instances = i32::try_from(c.instances.len()).unwrap_or(0);
        let box_height = 24 + instances * INSTANCE_ROW;
        let cy = y + ops_n.max(1) * ROW / 2 - ROW / 2 + 11;
        let top = (cy - 12).min(y + n * ROW - box_height).max(y);
        centers.push(cy);
        let (stroke, dash) = match c.declared {
            true => ("#5b6474", ""),
            false => ("#c01048", " stroke-dasharray=\"5 4\""),
        };
        body.push_str(&format!(
            "<rect x=\"250\" y=\"{top}\" width=\"180\" height=\"{box_height}\" rx=\"6\" fill=\"#fff\" stroke=\"{stroke}\"{dash}/>\
             <text x=\"260\" y=\"{}\" class=\"g-connector\">{}</text>",
            top + 16,
            esc(&c.name)
        ));
        for (k, i) in c.instances.iter().enumerate() {
            let iy = top + 24 + i32::try_from(k).unwrap_or(0) * INSTANCE_ROW + 8;
            let (class, title) = match i.reachable {
                true => ("g-instance", String::new()),
                false => (
                    "g-instance g-unreached",
                    format!(
                        "<title>{}: out of reach, the manifest does not declare {}</title>",
                        esc(&i.name),
                        i.environment.as_str()
                    ),
                ),
            };
            body.push_str(&format!(
                "<text x=\"268\" y=\"{iy}\" class=\"{class}\" data-instance=\"{}\" data-reachable=\"{}\">{title}▸ {} · {}</text>",
                esc(&i.name),
                i.reachable,
                esc(&shorten(&i.name, 14)),
                i.environment.as_str(),
            ));
        }
        for (i, o) in c.operations.iter().enumerate() {
            let oy = y + i32::try_from(i).unwrap_or(0) * ROW + 11;
            let (color, dash, note) = match (o.declared, o.writes) {
                (false, _) => (
                    "#c01048",
                    " stroke-dasharray=\"5 4\"",
                    format!(" · tried {}×, not declared", o.attempts),
                ),
                (true, true) => ("#b54708", "", " · write".to_string()),
                (true, false) => ("#98a2b3", "", String::new()),
            };
            let pii = if o.sensitive { " · PII" } else { "" };
            let gate = gate_note(o);
            let mark = match o.gated {
                true => lock(514, oy, color),
                false => format!("<circle cx=\"514\" cy=\"{oy}\" r=\"4\" fill=\"{color}\"/>"),
            };
            let verdict = o.policy.as_ref().map_or("none", |p| p.verdict.as_str());
            body.push_str(&format!(
                "<g class=\"g-op-row\" data-op=\"{}\" data-gated=\"{}\" data-verdict=\"{verdict}\">\
                 <path d=\"M430 {cy} C 470 {cy}, 470 {oy}, 510 {oy}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\"{dash}/>\
                 {mark}\
                 <text x=\"524\" y=\"{}\" class=\"g-op\" fill=\"{}\">{}<tspan class=\"g-note\">{}{pii}</tspan><tspan class=\"g-gate\">{}</tspan></text></g>",
                esc(&o.id),
                o.gated,
                oy + 4,
                if o.declared { "#151a23" } else { "#c01048" },
                esc(&o.id),
                esc(&note),
                esc(&gate),
            ));
        }
        y += n * ROW + GAP;
    }
    let ay = (TOP + (y - TOP) / 2 - 16).max(TOP);
    for cy in &centers {
        body.push_str(&format!(
            "<path d=\"M190 {} C 220 {}, 220 {cy}, 250 {cy}\" fill=\"none\" stroke=\"#98a2b3\" stroke-width=\"1.6\"/>",
            ay + 16,
            ay + 16
        ));
    }
    let legend_y = height - 44;
    let summary = format!(
        "Connector graph of {}: {} connectors, {} operations",
        g.agent,
        g.connectors.len(),
        ops
    );
    format!(
        "<svg viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\" class=\"graph graph-wide\" xmlns=\"http://www.w3.org/2000/svg\">\
         <text x=\"10\" y=\"18\" class=\"g-head\">agent</text><text x=\"250\" y=\"18\" class=\"g-head\">connectors ▸ instances</text><text x=\"510\" y=\"18\" class=\"g-head\">operations</text>\
         <rect x=\"10\" y=\"{ay}\" width=\"180\" height=\"32\" rx=\"8\" fill=\"#151a23\"/>\
         <text x=\"22\" y=\"{}\" class=\"g-agent\">{}</text>{body}\
         <g class=\"g-legend\"><circle cx=\"16\" cy=\"{legend_y}\" r=\"4\" fill=\"#98a2b3\"/><text x=\"26\" y=\"{}\">read</text>\
         <circle cx=\"86\" cy=\"{legend_y}\" r=\"4\" fill=\"#b54708\"/><text x=\"96\" y=\"{}\">write</text>\
         <circle cx=\"156\" cy=\"{legend_y}\" r=\"4\" fill=\"#c01048\"/><text x=\"166\" y=\"{}\">tried, not declared (drift)</text>\
         <text x=\"360\" y=\"{}\">PII: touches personal data or credentials</text>\
         <text x=\"640\" y=\"{}\" class=\"g-unreached\">▸ instance in grey: its environment is not in the manifest</text>\
         {}<text x=\"26\" y=\"{}\">gated: the policy in force escalates or denies it (verdict and rule shown; no lock: it permits)</text></g></svg>",
        esc(&summary),
        ay + 21,
        esc(&g.agent),
        legend_y + 4,
        legend_y + 4,
        legend_y + 4,
        legend_y + 4,
        legend_y + 4,
        lock(16, legend_y + 20, "#5b6474"),
        legend_y + 24,
    )
}

/// `s` cut to `n` characters, with `…` when cut (the JSON has it whole).
fn shorten(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// A padlock centred on (`x`, `y`): the mark of a gated operation.
fn lock(x: i32, y: i32, color: &str) -> String {
    format!(
        "<g class=\"g-lock\"><rect x=\"{}\" y=\"{}\" width=\"10\" height=\"7\" rx=\"1.5\" fill=\"{color}\"/>\
         <path d=\"M{} {} v-2.5 a3 3 0 0 1 6 0 v2.5\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/></g>",
        x - 5,
        y - 2,
        x - 3,
        y - 2,
    )
}

/// What gates a declared operation: ` · ESCALATE by rule x`, ` · DENY by default:high`
/// (cut so 40 operations stay readable); empty when it is open or undeclared (its note
/// says so already).
fn gate_note(o: &arx_core::registry::GraphOperation) -> String {
    let Some(p) = o.policy.as_ref().filter(|_| o.gated && o.declared) else {
        return match (&o.policy, o.declared) {
            (None, true) => " · no instance configured".into(),
            _ => String::new(),
        };
    };
    let (what, id) = match &p.rule_id {
        Some(r) => ("rule ", r.as_str()),
        None => ("", p.policy_id.as_str()),
    };
    let mut shown: String = id.chars().take(RULE_CHARS).collect();
    if id.chars().count() > RULE_CHARS {
        shown.pop();
        shown.push('…');
    }
    format!(" · {} by {what}{shown}", p.verdict.as_str())
}

#[cfg(test)]
mod tests {
    use arx_core::model::Environment;
    use arx_core::policy::Verdict;
    use arx_core::registry::{GraphConnector, GraphInstance, GraphOperation, OpPolicy};

    use super::*;

    /// 8 connectors of 5 operations, every other one gated.
    fn big() -> Graph {
        let connectors = (0..8)
            .map(|c| GraphConnector {
                name: format!("connector-{c}"),
                declared: true,
                instances: (0..c % 3)
                    .map(|i| GraphInstance {
                        name: format!("instance-<{i}>-with-a-long-name"),
                        environment: Environment::Prod,
                        reachable: i == 0,
                    })
                    .collect(),
                operations: (0..5)
                    .map(|o| {
                        let gated = (c + o) % 2 == 0;
                        GraphOperation {
                            id: format!("things_{o}:write"),
                            writes: o % 2 == 1,
                            sensitive: o == 3,
                            declared: true,
                            attempts: 0,
                            gated,
                            policy: Some(OpPolicy {
                                verdict: if gated {
                                    Verdict::Escalate
                                } else {
                                    Verdict::Permit
                                },
                                policy_id: "a-rule-with-a-rather-long-name-for-review".into(),
                                rule_id: gated
                                    .then(|| "a-rule-with-a-rather-long-name-for-review".into()),
                                instance: Some("main".into()),
                                environment: Some(Environment::Prod),
                            }),
                        }
                    })
                    .collect(),
            })
            .collect();
        Graph {
            agent: "triage <agent>".into(),
            manifest_version: Some(1),
            connectors,
        }
    }

    #[test]
    fn forty_operations_each_get_a_row_and_the_gated_ones_a_lock_and_their_rule() {
        let svg = graph_svg(&big());
        assert_eq!(svg.matches("class=\"g-op-row\"").count(), 40);
        assert_eq!(svg.matches("data-gated=\"true\"").count(), 20);
        // 20 locks on rows and one in the legend.
        assert_eq!(svg.matches("class=\"g-lock\"").count(), 21);
        // The rule is cut so the row stays inside the drawing.
        assert!(
            svg.contains("ESCALATE by rule a-rule-with-a-rather-lo…<"),
            "{svg}"
        );
        assert!(svg.contains("gated: the policy in force escalates or denies it"));
        assert!(svg.contains("triage &lt;agent&gt;") && !svg.contains("<agent>"));
        // Instances under their connector, escaped and cut; one out of the manifest's
        // environments says so.
        assert_eq!(svg.matches("class=\"g-instance").count(), 7, "{svg}");
        assert_eq!(
            svg.matches("out of reach, the manifest does not declare prod")
                .count(),
            2,
            "{svg}"
        );
        assert_eq!(svg.matches("data-reachable=\"false\"").count(), 2, "{svg}");
        assert!(svg.contains("▸ instance-&lt;0&gt;-w… · prod<"), "{svg}");
        assert!(!svg.contains("instance-<"));
    }

    #[test]
    fn a_connector_with_more_instances_than_operations_gets_room_for_them() {
        let mut g = big();
        g.connectors.truncate(1);
        g.connectors[0].operations.truncate(1);
        g.connectors[0].instances = (0..4)
            .map(|i| GraphInstance {
                name: format!("i{i}"),
                environment: Environment::Staging,
                reachable: true,
            })
            .collect();
        // 24 + 4 × 16 = 88 px of box: four rows of 26, not one.
        assert_eq!(rows_of(&g.connectors[0]), 4);
        let svg = graph_svg(&g);
        assert!(svg.contains("height=\"88\""), "{svg}");
    }
}
