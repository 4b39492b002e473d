//! Matrix expansion: the cartesian product of the axes (first axis slowest) into points with
//! stable readable ids, each with its request fully built, and the plan's time estimate.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use minijinja::{Environment, UndefinedBehavior, Value};

use super::{
    BodySpec, PayloadSource, Point, Problem, RequestSpec, Scenario, ScenarioError, SecretText,
};

/// Time a point needs beyond its phases (connections, merge, mock start), an estimate.
const POINT_OVERHEAD: Duration = Duration::from_millis(100);

/// Expand the matrix into points, in stable order, each with its request built.
pub fn expand(scenario: &Scenario) -> Result<Vec<Point>, ScenarioError> {
    let m = &scenario.matrix;
    let payloads: Vec<Option<&String>> = if m.payload.is_empty() {
        vec![None]
    } else {
        m.payload.iter().map(Some).collect()
    };
    let mut extra_combos: Vec<Vec<(&str, &str)>> = vec![Vec::new()];
    for (axis, values) in &m.extra {
        extra_combos = extra_combos
            .into_iter()
            .flat_map(|combo| {
                values.iter().map(move |v| {
                    let mut next = combo.clone();
                    next.push((axis.as_str(), v.as_str()));
                    next
                })
            })
            .collect();
    }
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let mut points = Vec::new();
    let mut problems = Vec::new();
    for route_name in &m.route {
        let route = &scenario.routes[route_name];
        for payload in &payloads {
            for concurrency in &m.concurrency {
                for combo in &extra_combos {
                    let mut id = route_name.clone();
                    if let Some(p) = payload {
                        id.push('-');
                        id.push_str(p);
                    }
                    id.push_str(&format!("-c{concurrency}"));
                    let mut vars = BTreeMap::new();
                    vars.insert("route".to_string(), route_name.clone());
                    if let Some(p) = payload {
                        vars.insert("payload".to_string(), (*p).clone());
                    }
                    vars.insert("concurrency".to_string(), concurrency.to_string());
                    for (axis, value) in combo {
                        id.push('-');
                        id.push_str(value);
                        vars.insert(axis.to_string(), value.to_string());
                    }
                    let model = vars
                        .get("model")
                        .cloned()
                        .unwrap_or_else(|| scenario.target.model.clone());
                    let mut context: BTreeMap<String, Value> = vars
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect();
                    context.insert("model".into(), Value::from(model.as_str()));
                    context.insert("stream".into(), Value::from(route.stream));
                    context.insert("concurrency".into(), Value::from(concurrency.get()));
                    context.insert("point_id".into(), Value::from(id.as_str()));
                    context.insert(
                        "payload_name".into(),
                        Value::from(payload.map_or("", |p| p.as_str())),
                    );
                    let text = match payload.map(|p| &scenario.payloads[p.as_str()].source) {
                        None => Ok(String::new()),
                        Some(PayloadSource::Fill { fill, bytes }) => Ok(fill_to(fill, *bytes)),
                        Some(PayloadSource::Text(t)) => Ok(t.clone()),
                        Some(PayloadSource::File { contents, .. }) => Ok(contents.clone()),
                        Some(PayloadSource::Template(src)) => {
                            env.render_str(src, &context).map_err(|e| {
                                (
                                    format!("payloads.{}", payload.map_or("", |p| p.as_str())),
                                    e,
                                )
                            })
                        }
                    };
                    let text = match text {
                        Ok(t) => t,
                        Err((key, e)) => {
                            push_problem(&mut problems, scenario, &key, &id, &e);
                            continue;
                        }
                    };
                    context.insert("payload".into(), Value::from(text.as_str()));
                    let body = match &route.body {
                        BodySpec::Empty => Ok(Bytes::new()),
                        BodySpec::Raw => Ok(Bytes::from(text)),
                        BodySpec::OpenAiChat { max_tokens } => {
                            let mut body = serde_json::json!({
                                "model": model,
                                "messages": [{ "role": "user", "content": text }],
                                "stream": route.stream,
                            });
                            if let Some(n) = max_tokens {
                                body["max_tokens"] = (*n).into();
                            }
                            Ok(Bytes::from(body.to_string()))
                        }
                        BodySpec::Template(src) => env.render_str(src, &context).map(Bytes::from),
                    };
                    let body = match body {
                        Ok(b) => b,
                        Err(e) => {
                            push_problem(
                                &mut problems,
                                scenario,
                                &format!("routes.{route_name}.body"),
                                &id,
                                &e,
                            );
                            continue;
                        }
                    };
                    let mut headers: Vec<(String, SecretText)> = scenario.target.headers.clone();
                    for (name, value) in &route.headers {
                        headers.retain(|(n, _)| n != name);
                        headers.push((name.clone(), value.clone()));
                    }
                    let json_body = matches!(route.body, BodySpec::OpenAiChat { .. });
                    if json_body && !headers.iter().any(|(n, _)| n == "content-type") {
                        headers
                            .push(("content-type".into(), SecretText::plain("application/json")));
                    }
                    points.push(Point {
                        index: points.len(),
                        id,
                        route: route_name.clone(),
                        payload: payload.cloned(),
                        concurrency: *concurrency,
                        vars,
                        request: RequestSpec {
                            method: route.method.clone(),
                            path: route.path.clone(),
                            headers,
                            body,
                            stream: route.stream,
                            expect: route.expect.clone(),
                        },
                    });
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(points)
    } else {
        Err(ScenarioError { problems })
    }
}

/// `fill` repeated and cut to exactly `bytes` bytes (on a character boundary at or below).
fn fill_to(fill: &str, bytes: u64) -> String {
    let bytes = bytes as usize;
    let mut text = fill.repeat(bytes / fill.len() + 1);
    let mut cut = bytes.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// A template failure, once per template: the first failing point stands for the rest.
fn push_problem(
    problems: &mut Vec<Problem>,
    scenario: &Scenario,
    key: &str,
    point: &str,
    e: &minijinja::Error,
) {
    if problems.iter().any(|p| p.key == key) {
        return;
    }
    problems.push(Problem {
        file: scenario.source.clone(),
        line: None,
        column: None,
        key: key.to_string(),
        message: format!("template failed for point `{point}`: {e}"),
    });
}

/// The plan's wall-time estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// Estimated wall time of the whole run.
    pub wall: Duration,
    /// True when some phase ends by request count only, so its time is unknown (counted as 0).
    pub lower_bound: bool,
}

/// Estimated wall time of running `points`: runs x (warmup + measure) per point plus overhead.
pub fn estimate(scenario: &Scenario, points: &[Point]) -> Estimate {
    let run = &scenario.run;
    let warmup = run
        .warmup
        .and_then(|w| w.duration)
        .unwrap_or(Duration::ZERO);
    let measure = run.measure.duration.unwrap_or(Duration::ZERO);
    let lower_bound =
        run.measure.duration.is_none() || run.warmup.is_some_and(|w| w.duration.is_none());
    let per_point = (warmup + measure) * run.runs.get() + POINT_OVERHEAD;
    Estimate {
        wall: per_point * points.len() as u32,
        lower_bound,
    }
}

#[cfg(test)]
mod tests {
    use super::fill_to;

    #[test]
    fn fill_repeats_to_the_exact_size() {
        assert_eq!(fill_to("Hello, world! ", 1024).len(), 1024);
        assert_eq!(fill_to("ab", 5), "ababa");
        assert_eq!(fill_to("é", 3).len(), 2);
    }
}
