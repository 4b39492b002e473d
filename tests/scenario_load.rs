//! The load models of a scenario: `concurrency` and `rate` in one matrix give the union of
//! their points (closed ones first), open-loop points carry `[run.arrival]` and the stages,
//! templates see `rate`, and stages set the measure phase's length unless it is written.

mod scenario_support;

use std::time::Duration;

use nitro_scenario::scenario::{self, ArrivalProcess, LoadModel, Overrides, RateProfile, Stage};
use scenario_support::{MOCK_CHAT, load_text, set};

fn ids(text: &str, overrides: &Overrides) -> Vec<String> {
    let s = load_text(text, overrides).unwrap();
    scenario::expand(&s)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect()
}

#[test]
fn concurrency_and_rate_give_the_union_of_their_points() {
    let text = format!(
        "{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nconcurrency = [1, 8]\nrate = [0.5, 50]\n\
         [matrix.axes]\nlang = [\"a\", \"b\"]\n"
    );
    assert_eq!(
        ids(&text, &Overrides::default()),
        [
            "chat-c1-a",
            "chat-c1-b",
            "chat-c8-a",
            "chat-c8-b",
            "chat-r0.5-a",
            "chat-r0.5-b",
            "chat-r50-a",
            "chat-r50-b"
        ]
    );
    let only_rates = format!("{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nrate = [10]\n");
    assert_eq!(ids(&only_rates, &Overrides::default()), ["chat-r10"]);
    assert_eq!(
        ids(&only_rates, &set(&["matrix.rate=[1, 2.5]"])),
        ["chat-r1", "chat-r2.5"],
        "an override replaces the rate axis"
    );
}

#[test]
fn open_loop_points_carry_the_arrival_settings() {
    let text = format!(
        "{MOCK_CHAT}[run.arrival]\nprocess = \"gamma\"\nburstiness = 0.25\nseed = 7\n\
         max_in_flight = 3\n[matrix]\nroute = [\"chat\"]\nrate = [20]\n"
    );
    let s = load_text(&text, &Overrides::default()).unwrap();
    let points = scenario::expand(&s).unwrap();
    let LoadModel::Open { open_loop } = &points[0].load else {
        panic!("an open-loop point");
    };
    assert_eq!(open_loop.rate, RateProfile::Fixed(20.0));
    assert_eq!(
        open_loop.arrival.process,
        ArrivalProcess::Gamma { burstiness: 0.25 }
    );
    assert_eq!(
        (open_loop.arrival.seed, open_loop.max_in_flight.get()),
        (7, 3)
    );
    assert_eq!(points[0].vars["rate"], "20");

    let defaults = format!("{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nrate = [20]\n");
    let s = load_text(&defaults, &Overrides::default()).unwrap();
    let a = s.run.arrival;
    assert_eq!(
        (a.process, a.seed, a.max_in_flight.get()),
        (ArrivalProcess::Poisson, 42, 10_000)
    );
    let gamma = format!(
        "{MOCK_CHAT}[run.arrival]\nprocess = \"gamma\"\n[matrix]\nroute = [\"chat\"]\nrate = [1]\n"
    );
    let s = load_text(&gamma, &Overrides::default()).unwrap();
    assert_eq!(
        s.run.arrival.process,
        ArrivalProcess::Gamma { burstiness: 1.0 },
        "gamma without burstiness is Poisson-like"
    );
}

#[test]
fn stages_ramp_and_set_the_measure_phase() {
    let stages = "[[run.stages]]\nduration = \"30s\"\nrate = 100\n\
                  [[run.stages]]\nduration = \"0s\"\nrate = 10\n\
                  [[run.stages]]\nduration = \"1m\"\nrate = 10\n";
    let text = format!("{MOCK_CHAT}{stages}[matrix]\nroute = [\"chat\"]\nrate = [\"stages\"]\n");
    let s = load_text(&text, &Overrides::default()).unwrap();
    assert_eq!(s.run.measure.duration, Some(Duration::from_secs(90)));
    let points = scenario::expand(&s).unwrap();
    assert_eq!(points[0].id, "chat-stages");
    let expected = vec![
        Stage {
            duration: Duration::from_secs(30),
            rate: 100.0,
        },
        Stage {
            duration: Duration::ZERO,
            rate: 10.0,
        },
        Stage {
            duration: Duration::from_secs(60),
            rate: 10.0,
        },
    ];
    assert_eq!(
        points[0].load.open_loop().unwrap().rate,
        RateProfile::Stages(expected)
    );
    let written = format!(
        "{MOCK_CHAT}[run]\nduration = \"5s\"\n{stages}[matrix]\nroute = [\"chat\"]\n\
         rate = [\"stages\"]\n"
    );
    let s = load_text(&written, &Overrides::default()).unwrap();
    assert_eq!(
        s.run.measure.duration,
        Some(Duration::from_secs(5)),
        "a written duration wins"
    );
}

#[test]
fn templates_see_rate_on_open_points_and_concurrency_on_closed_ones() {
    let text = "[target]\nbase_url = \"mock\"\n\
                [routes.t]\npath = \"/x\"\nbody = { template = '{{ point_id }}:{{ rate }}' }\n\
                [matrix]\nroute = [\"t\"]\nrate = [0.5, 3]\n";
    let s = load_text(text, &Overrides::default()).unwrap();
    let bodies: Vec<String> = scenario::expand(&s)
        .unwrap()
        .iter()
        .map(|p| String::from_utf8(p.request.body.to_vec()).unwrap())
        .collect();
    assert_eq!(bodies, ["t-r0.5:0.5", "t-r3:3"]);

    let mixed = "[target]\nbase_url = \"mock\"\n\
                 [routes.t]\npath = \"/x\"\nbody = { template = '{{ concurrency }}' }\n\
                 [matrix]\nroute = [\"t\"]\nconcurrency = [2]\nrate = [3]\n";
    let s = load_text(mixed, &Overrides::default()).unwrap();
    let err = scenario::expand(&s).unwrap_err().to_string();
    assert!(
        err.contains("template failed for point `t-r3`") && err.contains("undefined"),
        "{err}"
    );
}

#[test]
fn rate_is_a_reserved_name() {
    let text = format!(
        "{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n[matrix.axes]\nrate = [1]\n"
    );
    let err = load_text(&text, &Overrides::default()).unwrap_err();
    assert!(
        err.contains("`rate` is a built-in template variable"),
        "{err}"
    );
}
