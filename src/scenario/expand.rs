//! Matrix expansion: the cartesian product of the axes (first axis slowest) into points with
//! stable readable ids, each with its request fully built, and the plan's time estimate.
//!
//! Templates were checked at validation; what can still fail here (a filter given the wrong
//! type, say) is reported at the template, once per template, with the first failing point.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use minijinja::{Environment, Value};

use super::diagnostics::Spot;
use super::templates::RenderError;
use super::{
    Arrival, AxisValue, BUILTIN_CLIENT, BodySpec, ClientRef, LoadModel, MAX_PAYLOAD_BYTES,
    MAX_RATE, OpenLoop, PayloadSource, PhaseLimit, Point, Problem, RateProfile, RateValue,
    RequestSpec, Scenario, ScenarioError, SecretText, Template, names, templates, units,
};

/// Time a point needs beyond its phases (connections, merge, mock start), an estimate.
const POINT_OVERHEAD: Duration = Duration::from_millis(100);

/// Expand the matrix into points, in stable order, each with its request built. Point ids
/// are unique: two points with one id (`a-b` + `c` and `a` + `b-c`) are a problem.
pub fn expand(scenario: &Scenario) -> Result<Vec<Point>, ScenarioError> {
    let m = &scenario.matrix;
    let payloads: Vec<Option<usize>> = if m.payload.is_empty() {
        vec![None]
    } else {
        m.payload.iter().copied().map(Some).collect()
    };
    let combos = combinations(&m.extra.iter().map(|a| a.values.len()).collect::<Vec<_>>());
    let loads = load_models(scenario);
    // Without a client axis every point is the built-in engine's, and ids stay as they were.
    let clients: Vec<Option<ClientRef>> = if m.client.is_empty() {
        vec![None]
    } else {
        m.client.iter().copied().map(Some).collect()
    };
    let mut x = Expander::new(scenario);
    for &route in &m.route {
        for &payload in &payloads {
            for load in &loads {
                for (combo, values) in combos.iter().enumerate() {
                    for &client in &clients {
                        let cell = Cell {
                            route,
                            payload,
                            load,
                            combo,
                            values,
                            client,
                        };
                        x.point(&cell);
                    }
                }
            }
        }
    }
    x.finish()
}

/// The load models of the matrix, in expansion order: the concurrency levels, then the rates
/// (their union, not their product).
fn load_models(scenario: &Scenario) -> Vec<LoadModel> {
    let m = &scenario.matrix;
    let run = &scenario.run;
    let closed = m
        .concurrency
        .iter()
        .map(|&concurrency| LoadModel::Closed { concurrency });
    let open = m.rate.iter().map(|rate| LoadModel::Open {
        open_loop: OpenLoop {
            rate: match rate {
                RateValue::Fixed(rps) => RateProfile::Fixed(*rps),
                RateValue::Stages => RateProfile::Stages(run.stages.clone()),
                RateValue::Search => RateProfile::Search(
                    scenario
                        .search
                        .expect("validation requires `[search]` beside the \"search\" rate"),
                ),
            },
            arrival: Arrival {
                process: run.arrival.process,
                seed: run.arrival.seed,
            },
            max_in_flight: run.arrival.max_in_flight,
        },
    });
    closed.chain(open).collect()
}

/// Every combination of one value index per axis of the given lengths, first axis slowest.
fn combinations(lengths: &[usize]) -> Vec<Vec<usize>> {
    let mut combos = vec![Vec::new()];
    for &len in lengths {
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                (0..len).map(move |i| {
                    let mut next = combo.clone();
                    next.push(i);
                    next
                })
            })
            .collect();
    }
    combos
}

/// One cell of the matrix: indices into the scenario's routes, payloads and axis values.
struct Cell<'a> {
    route: usize,
    payload: Option<usize>,
    load: &'a LoadModel,
    /// Index of the user-axis combination, for the body cache.
    combo: usize,
    /// One value index per user axis.
    values: &'a [usize],
    /// The client, when the matrix has a client axis.
    client: Option<ClientRef>,
}

/// Builds points one by one, collecting problems instead of stopping at the first.
struct Expander<'s> {
    scenario: &'s Scenario,
    env: Environment<'static>,
    points: Vec<Point>,
    problems: Vec<Problem>,
    /// Index of the point that first took each id.
    ids: HashMap<String, usize>,
    /// Bodies that depend on neither a template nor the concurrency, built once and shared
    /// by reference count across concurrency levels: (route, payload, combination).
    bodies: HashMap<(usize, Option<usize>, usize), Bytes>,
}

impl<'s> Expander<'s> {
    fn new(scenario: &'s Scenario) -> Self {
        Self {
            scenario,
            env: templates::environment(),
            points: Vec::new(),
            problems: Vec::new(),
            ids: HashMap::new(),
            bodies: HashMap::new(),
        }
    }

    fn point(&mut self, cell: &Cell<'_>) {
        let s = self.scenario;
        let route = &s.routes[cell.route];
        let payload = cell.payload.map(|i| &s.payloads[i]);
        let axes: Vec<(&str, &AxisValue)> = s
            .matrix
            .extra
            .iter()
            .zip(cell.values)
            .map(|(axis, &i)| (axis.name.as_str(), &axis.values[i]))
            .collect();
        let mut id = route.name.clone();
        if let Some(p) = payload {
            id.push('-');
            id.push_str(&p.name);
        }
        id.push('-');
        id.push_str(&cell.load.id_part());
        let mut vars = BTreeMap::new();
        vars.insert("route".to_string(), route.name.clone());
        if let Some(p) = payload {
            vars.insert("payload".to_string(), p.name.clone());
        }
        let axis = cell.load.axis();
        vars.insert(axis.name.to_string(), axis.label);
        for (name, value) in &axes {
            id.push('-');
            id.push_str(&names::id_part(&value.to_string()));
            vars.insert(name.to_string(), value.to_string());
        }
        if let Some(client) = cell.client {
            let name = self.client_name(client);
            id.push('-');
            id.push_str(name);
            vars.insert("client".to_string(), name.to_string());
        }
        let body = self.body(cell, &id, &axes);
        if let Some(&first) = self.ids.get(&id) {
            let first = &self.points[first];
            let problem = s.matrix.spot.problem(
                &s.source,
                "matrix",
                format!(
                    "two points get the id `{id}`: {} and {}; rename a route, payload or axis \
                     value so that ids stay unique",
                    describe(&first.vars),
                    describe(&vars)
                ),
            );
            self.problems.push(problem);
            return;
        }
        let Some((body, json)) = body else { return };
        let mut headers: Vec<(String, SecretText)> = s.target.headers.clone();
        for (name, value) in &route.headers {
            headers.retain(|(n, _)| n != name);
            headers.push((name.clone(), value.clone()));
        }
        if json && !headers.iter().any(|(n, _)| n == "content-type") {
            headers.push(("content-type".into(), SecretText::plain("application/json")));
        }
        self.ids.insert(id.clone(), self.points.len());
        self.points.push(Point {
            index: self.points.len(),
            id,
            route: route.name.clone(),
            payload: payload.map(|p| p.name.clone()),
            load: cell.load.clone(),
            client: cell.client.unwrap_or(ClientRef::Builtin),
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

    /// The name of `client` in ids, `vars` and templates.
    fn client_name(&self, client: ClientRef) -> &'s str {
        match client {
            ClientRef::Builtin => BUILTIN_CLIENT,
            ClientRef::External(i) => &self.scenario.clients[i].name,
        }
    }

    /// The body of a point and whether it is JSON; `None` when a template failed.
    fn body(
        &mut self,
        cell: &Cell<'_>,
        id: &str,
        axes: &[(&str, &AxisValue)],
    ) -> Option<(Bytes, bool)> {
        let s = self.scenario;
        let route = &s.routes[cell.route];
        let payload = cell.payload.map(|i| &s.payloads[i]);
        let payload_template =
            matches!(payload.map(|p| &p.source), Some(PayloadSource::Template(_)));
        let body_template = matches!(route.body, BodySpec::Template(_));
        let json = |body: &Bytes| match route.body {
            BodySpec::OpenAiChat { .. } => true,
            BodySpec::Template(_) => serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok(),
            BodySpec::Raw | BodySpec::Empty => false,
        };
        let key = (cell.route, cell.payload, cell.combo);
        if !payload_template && !body_template {
            if let Some(body) = self.bodies.get(&key) {
                return Some((body.clone(), json(body)));
            }
        }
        let model = match axes.iter().find(|(name, _)| *name == "model") {
            Some((_, value)) => value.to_string(),
            None => s.target.model.clone(),
        };
        let mut context: BTreeMap<&str, Value> = BTreeMap::new();
        context.insert("route", Value::from(route.name.as_str()));
        context.insert(
            "payload",
            Value::from(payload.map_or("", |p| p.name.as_str())),
        );
        context.insert(
            "payload_name",
            Value::from(payload.map_or("", |p| p.name.as_str())),
        );
        match cell.load {
            LoadModel::Closed { concurrency } => {
                context.insert("concurrency", Value::from(concurrency.get()));
            }
            LoadModel::Open { open_loop } => {
                context.insert("rate", rate_value(&open_loop.rate));
            }
        }
        context.insert("model", Value::from(model.as_str()));
        context.insert("stream", Value::from(route.stream));
        context.insert("point_id", Value::from(id));
        let client = self.client_name(cell.client.unwrap_or(ClientRef::Builtin));
        context.insert("client", Value::from(client));
        for (name, value) in axes {
            context.insert(name, axis_value(value));
        }
        // A failed payload template still lets the body template run (on an empty payload),
        // so that a problem in each is reported.
        let text = match payload.map(|p| (&p.name, &p.source)) {
            None => Some(String::new()),
            Some((_, PayloadSource::Fill { fill, bytes })) => Some(fill_to(fill, *bytes)),
            Some((_, PayloadSource::Text(t))) => Some(t.clone()),
            Some((_, PayloadSource::File { contents, .. })) => Some(contents.clone()),
            Some((name, PayloadSource::Template(t))) => {
                self.render(t, &context, &format!("payloads.{name}.template"), id)
            }
        };
        context.insert("payload", Value::from(text.as_deref().unwrap_or("")));
        let body = match &route.body {
            BodySpec::Empty => Some(Bytes::new()),
            BodySpec::Raw => text.clone().map(Bytes::from),
            BodySpec::OpenAiChat { max_tokens } => text.as_ref().map(|text| {
                let mut body = serde_json::json!({
                    "model": model,
                    "messages": [{ "role": "user", "content": text }],
                    "stream": route.stream,
                });
                if let Some(n) = max_tokens {
                    body["max_tokens"] = (*n).into();
                }
                Bytes::from(body.to_string())
            }),
            BodySpec::Template(t) => {
                let key = format!("routes.{}.body.template", route.name);
                self.render(t, &context, &key, id).map(Bytes::from)
            }
        };
        // Both must have rendered for the point to exist.
        let body = body.filter(|_| text.is_some())?;
        if !payload_template && !body_template {
            self.bodies.insert(key, body.clone());
        }
        let json = json(&body);
        Some((body, json))
    }

    /// Render `template` (at `key`) for point `id`; a failure is a problem, once per template.
    fn render(
        &mut self,
        template: &Template,
        context: &BTreeMap<&str, Value>,
        key: &str,
        id: &str,
    ) -> Option<String> {
        let context = Value::from(context);
        let rendered =
            templates::render_capped(&self.env, &template.source, context, MAX_PAYLOAD_BYTES);
        let problem = match rendered {
            Ok(text) => return Some(text),
            Err(RenderError::TooLarge) => format!(
                "renders more than the limit of {} for point `{id}`",
                units::format_size(MAX_PAYLOAD_BYTES)
            ),
            Err(RenderError::Failed(e)) => format!(
                "template failed for point `{id}`: {}",
                templates::describe(&e)
            ),
        };
        self.problem_once(&template.spot, key, problem);
        None
    }

    fn problem_once(&mut self, spot: &Spot, key: &str, message: String) {
        if !self.problems.iter().any(|p| p.key == key) {
            let problem = spot.problem(&self.scenario.source, key, message);
            self.problems.push(problem);
        }
    }

    fn finish(self) -> Result<Vec<Point>, ScenarioError> {
        if self.problems.is_empty() {
            Ok(self.points)
        } else {
            Err(ScenarioError {
                problems: self.problems,
            })
        }
    }
}

/// A user axis value as a template sees it: a number stays a number.
fn axis_value(value: &AxisValue) -> Value {
    match value {
        AxisValue::Text(s) => Value::from(s.as_str()),
        AxisValue::Integer(i) => Value::from(*i),
        AxisValue::Float(x) => Value::from(*x),
        AxisValue::Bool(b) => Value::from(*b),
    }
}

/// The `rate` template variable: a number (an integer when whole), `"stages"` or `"search"`.
fn rate_value(rate: &RateProfile) -> Value {
    match *rate {
        RateProfile::Fixed(rps) if rps.fract() == 0.0 && rps <= MAX_RATE => Value::from(rps as i64),
        RateProfile::Fixed(rps) => Value::from(rps),
        RateProfile::Stages(_) | RateProfile::Search(_) => Value::from(rate.label()),
    }
}

/// A point's axis values for a message: `route `a`, payload `b-c`, concurrency `1``.
fn describe(vars: &BTreeMap<String, String>) -> String {
    const FIRST: [&str; 5] = ["route", "payload", "concurrency", "rate", "client"];
    let mut order: Vec<&String> = FIRST
        .iter()
        .filter_map(|k| vars.keys().find(|v| v == k))
        .collect();
    order.extend(vars.keys().filter(|k| !FIRST.contains(&k.as_str())));
    let parts: Vec<String> = order
        .into_iter()
        .map(|k| format!("{k} `{}`", vars[k]))
        .collect();
    parts.join(", ")
}

/// `fill` repeated and cut to exactly `bytes` bytes (on a character boundary at or below).
fn fill_to(fill: &str, bytes: u64) -> String {
    // Validation caps `bytes` at MAX_PAYLOAD_BYTES, which fits any `usize` we build for.
    let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    let mut text = String::with_capacity(bytes + fill.len());
    while text.len() < bytes {
        text.push_str(fill);
    }
    let mut cut = bytes.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// The plan's wall-time estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    /// Estimated wall time of the whole run; `Duration::MAX` when too long to count.
    pub wall: Duration,
    /// True when some phase ends by request count only, so its time is unknown (counted as 0).
    pub lower_bound: bool,
    /// The longest the run may take when every external client runs until it is killed (its
    /// phases plus its `timeout`); `wall` when no point has an external client.
    pub longest: Duration,
    /// True when some point is a search, counted at the most probes it can take: the run may
    /// take less.
    pub worst_case: bool,
}

/// Estimated wall time of running `points`: per point, runs x (warmup + measure) plus
/// overhead. Saturates instead of overflowing, however many runs and points.
pub fn estimate(scenario: &Scenario, points: &[Point]) -> Estimate {
    points
        .iter()
        .map(|p| point_estimate(scenario, p))
        .fold(Estimate::default(), |total, e| Estimate {
            wall: total.wall.saturating_add(e.wall),
            lower_bound: total.lower_bound || e.lower_bound,
            longest: total.longest.saturating_add(e.longest),
            worst_case: total.worst_case || e.worst_case,
        })
}

/// Estimated wall time of one point, all its runs. A search's run is its most probes, each a
/// warmup and a measure phase of `probe`.
pub fn point_estimate(scenario: &Scenario, point: &Point) -> Estimate {
    let run = &scenario.run;
    let phase = |limit: &PhaseLimit| phase_time(limit, &point.load);
    let (warmup, warmup_known) = run.warmup.as_ref().map_or((Duration::ZERO, true), phase);
    let search = match point.load.open_loop().map(|o| &o.rate) {
        Some(RateProfile::Search(search)) => Some(search),
        _ => None,
    };
    let (measure, measure_known) = match search {
        Some(s) => (s.probe, true),
        None => phase(&run.measure),
    };
    let probes = search.map_or(1, |s| s.worst_case_probes());
    let all_runs = |per_run: Duration| {
        per_run
            .saturating_mul(probes)
            .saturating_mul(run.runs.get())
            .saturating_add(POINT_OVERHEAD)
    };
    let phases = warmup.saturating_add(measure);
    let allowance = match point.client {
        ClientRef::Builtin => Duration::ZERO,
        ClientRef::External(i) => scenario.clients[i].timeout,
    };
    Estimate {
        wall: all_runs(phases),
        lower_bound: !(warmup_known && measure_known),
        longest: all_runs(phases.saturating_add(allowance)),
        worst_case: search.is_some(),
    }
}

/// How long a phase with `limit` lasts under `load`, and whether that is known: a closed loop
/// bounded only by a request count takes as long as the server does; an open loop's schedule
/// tells how long its requests take to be sent (a search's, at its lowest rate, at most).
fn phase_time(limit: &PhaseLimit, load: &LoadModel) -> (Duration, bool) {
    let at_rate = |rps: f64| {
        limit
            .requests
            .and_then(|n| Duration::try_from_secs_f64(n.get() as f64 / rps).ok())
    };
    let schedule = match load.open_loop().map(|o| &o.rate) {
        None => None,
        Some(RateProfile::Stages(stages)) => Some(stages.iter().map(|s| s.duration).sum()),
        Some(RateProfile::Fixed(rps)) => at_rate(*rps),
        Some(RateProfile::Search(search)) => at_rate(search.min),
    };
    let times = [limit.duration, schedule];
    match times.into_iter().flatten().min() {
        Some(t) => (t, true),
        None => (Duration::ZERO, false),
    }
}

#[cfg(test)]
mod tests {
    use super::{combinations, fill_to};

    #[test]
    fn fill_repeats_to_the_exact_size() {
        assert_eq!(fill_to("Hello, world! ", 1024).len(), 1024);
        assert_eq!(fill_to("ab", 5), "ababa");
        assert_eq!(fill_to("é", 3).len(), 2);
        assert_eq!(fill_to("x", 0), "");
    }

    #[test]
    fn combinations_keep_the_first_axis_slowest() {
        assert_eq!(
            combinations(&[2, 2]),
            [vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]
        );
        assert_eq!(combinations(&[]), [Vec::<usize>::new()]);
    }
}
