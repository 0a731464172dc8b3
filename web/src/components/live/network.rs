//! The Network panel of the Live tab: the delays the members measure
//! (`/api/delays`) against the matrix their timers were set from, each
//! rank's slack on the measured network, and "What if the master fails
//! now?", the digital twin run in this tab.
//!
//! Everything computed here is stagger_core's, as `stagger delays --node`
//! and `stagger ctl predict` compute it: the answers merge into one matrix
//! (`measured::merge_answers`, p99, halved), holes keep their configured
//! delay (`measured::fill`), the slack is `delays::report_against` and the
//! twin is `twin::predict` (docs/protocol.md P1–P4). This file folds the
//! polled answers into what the panel shows ([`fold`], [`what_if`]) and
//! draws it ([`NetworkPanel`]).

use super::member::MemberView;
use serde_json::Value;
use stagger_core::delays::{report_against, DelayReport};
use stagger_core::measured::{fill, merge_answers, Statistic};
use stagger_core::twin::{self, TwinInput, TwinPrediction};
use stagger_core::ScenarioFile;
use yew::prelude::*;

/// The statistic of the measured matrix, as `stagger delays --node` uses by
/// default: a timer set from it is late once in a hundred elections.
const STAT: Statistic = Statistic::P99;

/// What the panel shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Server ids, `servers` order (the matrices' rows and columns).
    pub ids: Vec<String>,
    /// The configured one-way delays, ms.
    pub configured_ms: Vec<Vec<f64>>,
    /// The measured one-way delays, ms; `None` where no member measured the
    /// pair (the slack uses the configured delay there). `None` as a whole
    /// until some member measured some pair.
    pub measured_ms: Option<Vec<Vec<Option<f64>>>>,
    /// The slack of every rank with the configured timers on the measured
    /// network (on the configured one while nothing is measured).
    pub report: DelayReport,
}

impl Network {
    /// The measured matrix with its holes filled from the configured one,
    /// what the slack and the twin run on; `None` while nothing is measured.
    pub fn network_ms(&self) -> Option<Vec<Vec<f64>>> {
        self.measured_ms.as_ref().map(|m| fill(&self.ids, &self.configured_ms, m).0)
    }

    /// Rank `i`'s slack when it is the winner (the ranks before it down);
    /// `None` for rank 0 or when nobody else survives to contest it.
    pub fn slack_of(&self, index: u32) -> Option<f64> {
        self.report.predictions.iter().find(|p| p.down == index).and_then(|p| p.slack_ms)
    }
}

/// The group's network from its scenario and the members' `/api/delays`
/// answers (`(member id, answer)`); an error names what does not fit.
pub fn fold(file: &ScenarioFile, answers: &[(String, Value)]) -> Result<Network, String> {
    let scenario = file.validate().map_err(|e| format!("the group's scenario: {e}"))?;
    let ids = scenario.ids.clone();
    let configured_ms: Vec<Vec<f64>> = scenario.delays_us.iter().map(|r| r.iter().map(|&d| d as f64 / 1000.0).collect()).collect();
    let merged = merge_answers(&ids, answers, STAT).map_err(|e| format!("/api/delays: {e}"))?;
    let any = (0..ids.len()).any(|j| (0..ids.len()).any(|k| j != k && merged[j][k].is_some()));
    let measured_ms = any.then_some(merged);
    let transmission_us: Vec<Vec<u64>> = match &measured_ms {
        Some(m) => fill(&ids, &configured_ms, m).0.iter().map(|r| r.iter().map(|&d| (d * 1000.0).round() as u64).collect()).collect(),
        None => scenario.delays_us.clone(),
    };
    let report = report_against(&scenario, &transmission_us);
    Ok(Network { ids, configured_ms, measured_ms, report })
}

/// The twin's forecast and the matrix it ran on ("measured" or
/// "configured").
#[derive(Clone, Debug, PartialEq)]
pub struct WhatIf {
    pub prediction: TwinPrediction,
    pub matrix: &'static str,
}

/// "What if the master fails now?": the twin of the group as polled —
/// members and who is down, the current ranking, the measured matrix, the
/// master — whose master crashes at `now_ms` (µs since the epoch / 1000,
/// the nodes' time base), run in this tab's simulator.
pub fn what_if(
    file: &ScenarioFile,
    network: &Network,
    members: &[MemberView],
    master: Option<&str>,
    now_ms: f64,
) -> Result<WhatIf, String> {
    let master = master.ok_or("the group has no master now: nothing to fail over")?;
    let statuses: Vec<Option<Value>> =
        network.ids.iter().map(|id| members.iter().find(|m| &m.id == id).and_then(|m| m.status.clone())).collect();
    let measured_ms = network.network_ms();
    let matrix = if measured_ms.is_some() { "measured" } else { "configured" };
    let input = TwinInput {
        file: file.clone(),
        ranking: twin::ranking_in(&statuses),
        down: twin::down_in(&network.ids, &statuses),
        measured_ms,
        master: master.to_string(),
        now_ms,
    };
    let prediction = twin::predict(&input).map_err(|e| format!("cannot predict: {e}"))?;
    Ok(WhatIf { prediction, matrix })
}

/// The forecast in one sentence.
pub fn what_if_text(w: &WhatIf) -> String {
    let p = &w.prediction;
    let on = format!("on the {} matrix", w.matrix);
    match (&p.winner, p.failover_ms) {
        (Some(winner), Some(ms)) => format!(
            "{winner} would win (index {}), {} ms after the crash, with {} election message{}, {on}.",
            p.winner_index.map_or("?".to_string(), |i| i.to_string()),
            ms_text(ms),
            p.messages,
            if p.messages == 1 { "" } else { "s" },
        ),
        _ => format!("The group would not settle on one master within the run ({} election messages), {on}.", p.messages),
    }
}

fn ms_text(ms: f64) -> String {
    if ms.fract() == 0.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms:.1}")
    }
}

#[derive(Properties, PartialEq)]
pub struct NetworkProps {
    pub file: ScenarioFile,
    /// The `/api/delays` answers of the last delays poll.
    pub answers: Vec<(String, Value)>,
    pub members: Vec<MemberView>,
    pub master: Option<AttrValue>,
}

#[function_component(NetworkPanel)]
pub fn network_panel(p: &NetworkProps) -> Html {
    let forecast = use_state(|| None::<Result<WhatIf, String>>);
    let network = match fold(&p.file, &p.answers) {
        Ok(n) => n,
        Err(why) => {
            return html! { <div class="banner notice" data-testid="live-network">{format!("The network cannot be shown: {why}")}</div> }
        }
    };
    let onclick = {
        let (file, network, members, master, forecast) =
            (p.file.clone(), network.clone(), p.members.clone(), p.master.clone(), forecast.clone());
        Callback::from(move |_: MouseEvent| {
            let now_ms = js_sys::Date::now();
            forecast.set(Some(what_if(&file, &network, &members, master.as_deref(), now_ms)));
        })
    };
    let measured = network.measured_ms.is_some();
    let cell = |j: usize, k: usize| -> Html {
        let configured = network.configured_ms[j][k];
        let m = network.measured_ms.as_ref().and_then(|m| m[j][k]);
        let over = m.is_some_and(|m| m > configured);
        let text = m.map_or("–".to_string(), ms_text);
        html! {
            <td class={classes!("num", over.then_some("over"))} title={format!("configured {} ms", ms_text(configured))}
                data-pair={format!("{} {}", network.ids[j], network.ids[k])}>
                {text}<span class="muted">{format!(" / {}", ms_text(configured))}</span>
            </td>
        }
    };
    html! {
        <section class="live-network" data-testid="live-network" aria-labelledby="live-network-title">
            <h3 id="live-network-title">{"Network"}</h3>
            if !measured {
                <p class="muted" data-testid="live-network-unmeasured">{"Not measured yet: the members' delays appear after a few detection periods. Until then the slack below is the configured matrix's."}</p>
            }
            { for network.report.warnings.iter().map(|w| html! {
                <div class="banner warning" role="alert" data-testid="live-network-warning">{format!("Warning: {w} (the measured delays outrun the timers).")}</div>
            }) }
            <div class="live-network-scroll">
                <table class="live-slack" data-testid="live-slack">
                    <caption>{"Per rank: δ and D from the configured matrix; the slack by which its declaration beats every later survivor's timer"}{if measured {" on the measured network"} else {""}}{"."}</caption>
                    <tr><th scope="col">{"rank"}</th><th scope="col">{"member"}</th><th scope="col">{"δ ms"}</th><th scope="col">{"D ms"}</th><th scope="col">{"slack ms"}</th></tr>
                    { for network.report.ranks.iter().map(|r| {
                        let slack = network.slack_of(r.index);
                        html! {
                            <tr>
                                <td class="num">{r.index}</td>
                                <td>{r.id.clone()}</td>
                                <td class="num">{ms_text(r.delta_ms)}</td>
                                <td class="num">{r.d_ms.map_or("–".to_string(), ms_text)}</td>
                                <td class={classes!("num", slack.is_some_and(|s| s < 0.0).then_some("over"))} data-slack-rank={r.index.to_string()}>{slack.map_or("–".to_string(), ms_text)}</td>
                            </tr>
                        }
                    }) }
                </table>
            </div>
            <div class="live-network-scroll">
                <table class="live-matrix" data-testid="live-matrix">
                    <caption>{"One-way delays in ms, measured (p99 of the round trip, halved) / configured; – not measured yet."}</caption>
                    <tr><th scope="col">{"from \\ to"}</th>{ for network.ids.iter().map(|id| html! { <th scope="col">{id.clone()}</th> }) }</tr>
                    { for (0..network.ids.len()).map(|j| html! {
                        <tr><th scope="row">{network.ids[j].clone()}</th>{ for (0..network.ids.len()).map(|k| cell(j, k)) }</tr>
                    }) }
                </table>
            </div>
            <p>
                <button class="primary" data-testid="live-what-if" {onclick}>{"What if the master fails now?"}</button>
            </p>
            { match &*forecast {
                Some(Ok(w)) => html! { <p class="live-what-if" data-testid="live-what-if-result" data-winner={w.prediction.winner.clone().unwrap_or_default()}>{what_if_text(w)}</p> },
                Some(Err(why)) => html! { <p class="banner notice" data-testid="live-what-if-result">{why.clone()}</p> },
                None => html! {},
            } }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file() -> ScenarioFile {
        let mut f = ScenarioFile::from_json(crate::presets::PRESETS.iter().find(|p| p.0 == "patent-5").unwrap().1).unwrap();
        f.faults.clear();
        f
    }

    /// An `/api/delays` answer with round trips `rtt_ms` to each peer.
    fn answer(peers: &[(&str, f64)]) -> Value {
        let peers: serde_json::Map<String, Value> =
            peers.iter().map(|(id, rtt)| (id.to_string(), json!({"median_ms": rtt, "p99_ms": rtt, "max_ms": rtt, "samples": 9}))).collect();
        json!({ "peers": peers })
    }

    fn member(id: &str, up: bool, master: &str) -> MemberView {
        let status = json!({"up": up, "master": master, "peers": []});
        MemberView { id: id.into(), addr: Some("127.0.0.1:1".into()), browser: false, status: Some(status) }
    }

    fn members(down: &[&str], master: &str) -> Vec<MemberView> {
        file().servers.iter().map(|s| member(&s.id, !down.contains(&s.id.as_str()), master)).collect()
    }

    #[test]
    fn before_any_measurement_the_slack_is_the_configured_matrixs() {
        let n = fold(&file(), &[]).unwrap();
        assert_eq!(n.measured_ms, None);
        assert!(n.report.warnings.is_empty());
        // Atlanta wins a failover of Ottawa; Bangalore's timer ties with its
        // declaration (slack 0).
        assert_eq!((n.slack_of(0), n.slack_of(1)), (None, Some(0.0)));
        // Answers with no peers yet are still "not measured".
        assert_eq!(fold(&file(), &[("ottawa".into(), answer(&[]))]).unwrap().measured_ms, None);
    }

    #[test]
    fn a_measured_link_past_its_delta_makes_a_failover_contested() {
        // Ottawa–Atlanta configured at 20 ms one way; measured at their
        // configured delays the group is clean.
        let n = fold(&file(), &[("ottawa".into(), answer(&[("atlanta", 40.0)]))]).unwrap();
        let m = n.measured_ms.as_ref().unwrap();
        assert_eq!((m[0][1], m[1][0], m[0][2]), (Some(20.0), Some(20.0), None));
        assert!(n.report.warnings.is_empty(), "{:?}", n.report.warnings);
        // Atlanta's declarations to Bangalore take 200 ms, past its δ of 120 ms.
        let slow = fold(&file(), &[("atlanta".into(), answer(&[("bangalore", 400.0)]))]).unwrap();
        assert!(slow.slack_of(1).unwrap() < 0.0, "{:?}", slow.report.predictions);
        assert!(slow.report.warnings.contains(&"a failover of ottawa now would be contested".to_string()), "{:?}", slow.report.warnings);
    }

    #[test]
    fn what_if_names_the_next_live_index_and_the_matrix_it_ran_on() {
        let f = file();
        let n = fold(&f, &[("ottawa".into(), answer(&[("atlanta", 40.0)]))]).unwrap();
        let w = what_if(&f, &n, &members(&[], "ottawa"), Some("ottawa"), 1_234_800.0).unwrap();
        assert_eq!((w.prediction.winner.as_deref(), w.matrix), (Some("atlanta"), "measured"));
        assert_eq!(w.prediction.messages, 4);
        let text = what_if_text(&w);
        assert!(
            text.starts_with("atlanta would win (index 1), ") && text.ends_with("with 4 election messages, on the measured matrix."),
            "{text}"
        );
        // Ottawa is down and Atlanta is master: Bangalore next.
        let unmeasured = fold(&f, &[]).unwrap();
        let w = what_if(&f, &unmeasured, &members(&["ottawa"], "atlanta"), Some("atlanta"), 1_234_800.0).unwrap();
        assert_eq!((w.prediction.winner.as_deref(), w.matrix), (Some("bangalore"), "configured"));
    }

    #[test]
    fn what_if_without_a_master_or_with_a_wrong_one_says_why() {
        let f = file();
        let n = fold(&f, &[]).unwrap();
        assert_eq!(what_if(&f, &n, &members(&[], ""), None, 0.0).unwrap_err(), "the group has no master now: nothing to fail over");
        let e = what_if(&f, &n, &members(&[], "atlanta"), Some("atlanta"), 0.0).unwrap_err();
        assert!(e.contains("not the lowest live index"), "{e}");
        let e = fold(&f, &[("zed".into(), answer(&[]))]).unwrap_err();
        assert!(e.contains("'zed' is not a member"), "{e}");
    }
}
