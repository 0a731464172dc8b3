//! The sweep card: election messages and recovery time against N, computed
//! in slices so the tab stays responsive.
//!
//! A full sweep is ~170 simulations (up to a second or more in wasm), so it
//! runs in slices (`slices.rs`), drawing each curve as it grows. Sweeps
//! are cached outside the component, keyed on what they depend on, so
//! leaving the tab, undoing an edit or raising N never repeats a run.

use super::capped::MAX_EVENTS;
use super::chart::{thousands, LineChart, Mark, Point, Series, Unit};
use super::slices::{use_slices, Step};
use super::sweep::{SweepPoint, SweepSpec, MAX_N, MIN_N};
use super::sweep_job::Sweep;
use super::variants::{fmt_ms, Entrant, ENTRANTS};
use crate::components::use_store;
use stagger_core::scenario::SchemeName;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The largest N on offer; the default keeps the first sweep short.
const MAX_CHOICES: [usize; 6] = [10, 20, 30, 40, 50, 60];
const DEFAULT_MAX: usize = 40;
/// Sweeps kept for recently seen scenarios.
const CACHE_LEN: usize = 4;

type Shared = Rc<RefCell<Sweep>>;

thread_local! {
    static CACHE: RefCell<Vec<Shared>> = const { RefCell::new(Vec::new()) };
}

/// The sweep for `spec`, partial or complete, most recently used first.
fn cached(spec: SweepSpec) -> Shared {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let sweep = match c.iter().position(|s| s.borrow().spec == spec) {
            Some(i) => c.remove(i),
            None => Rc::new(RefCell::new(Sweep::new(spec))),
        };
        c.insert(0, sweep.clone());
        c.truncate(CACHE_LEN);
        sweep
    })
}

#[function_component(SweepView)]
pub fn sweep_view() -> Html {
    let store = use_store();
    let max_n = use_state(|| DEFAULT_MAX);
    let log_y = use_state(|| false);
    let computed = store.outcome.computed().cloned();
    let sweep = use_memo(store.file.clone(), move |f| computed.map(|c| cached(SweepSpec::new(f, &c.scenario))));
    let n_max = *max_n;
    let step = (*sweep)
        .clone()
        .filter(|s| s.borrow().progress(n_max).0 < s.borrow().progress(n_max).1)
        .map(|s| -> Step { Rc::new(move |more: &dyn Fn() -> bool| s.borrow_mut().step(n_max, more)) });
    use_slices((store.file.clone(), n_max), step);

    let Some(sweep) = (*sweep).clone() else { return html! {} };
    let sw = sweep.borrow();
    let (done, total) = sw.progress(n_max);
    let running = done < total;
    // Each chart reads one value off a point; a stopped run gives a lower
    // bound for messages and no recovery time.
    let series = |value: fn(SweepPoint) -> Option<f64>| -> Rc<Vec<Series>> {
        Rc::new(
            ENTRANTS
                .iter()
                .enumerate()
                .map(|(i, c)| Series {
                    name: c.name(),
                    dash: match c {
                        Entrant::Timer(SchemeName::Integral) => 0,
                        Entrant::Timer(SchemeName::Equal) => 1,
                        Entrant::Timer(SchemeName::Randomized) => 2,
                        Entrant::Raft => 3,
                        Entrant::Bully => 4,
                    },
                    points: (MIN_N..=n_max)
                        .filter_map(|n| sw.point(n, i).map(|p| (n, p)))
                        .map(|(n, p)| Point {
                            x: n as f64,
                            y: value(p),
                            mark: match p {
                                SweepPoint::Ran { .. } => Mark::Value,
                                SweepPoint::Stopped { .. } => Mark::AtLeast,
                                SweepPoint::Skipped => Mark::NotRun,
                            },
                        })
                        .collect(),
                })
                .collect(),
        )
    };
    let messages = series(|p| p.messages().map(|m| m as f64));
    let recovery = series(SweepPoint::recovery_ms);

    let on_max = {
        let max_n = max_n.clone();
        Callback::from(move |e: Event| {
            if let Ok(v) = e.target_unchecked_into::<HtmlSelectElement>().value().parse::<usize>() {
                max_n.set(v.clamp(MIN_N, MAX_N));
            }
        })
    };
    let on_log = {
        let log_y = log_y.clone();
        Callback::from(move |e: Event| log_y.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let spec = &sw.spec;
    let crash = if spec.scenario_crashes {
        format!("the top-ranked server crashes at {} ms, as in your scenario", fmt_ms(spec.crash_ms))
    } else {
        format!("the top-ranked server crashes at {} ms (your scenario has no crash)", fmt_ms(spec.crash_ms))
    };

    html! {
        <section class="card sweep" data-testid="sweep-chart" data-state={if running { "running" } else { "done" }}>
            <header class="sweep-head">
                <h3>{"Growing the group"}</h3>
                <label class="max-n">{"N up to "}
                    <select onchange={on_max} aria-label="largest group size">
                        { for MAX_CHOICES.iter().map(|&m| html! {
                            <option value={m.to_string()} selected={m == n_max}>{m}</option>
                        }) }
                    </select>
                </label>
            </header>
            <p class="muted caption">
                {format!(
                    "Random groups of N = {MIN_N}…{n_max} servers with one-way delays uniform in [{}, {}] ms (your matrix's range{}), one group per N for every scheme, Raft and Bully; {crash}. Detection, claim policy, timer parameters and Raft's and Bully's settings as in the table above; each run lasts until {} ms.",
                    fmt_ms(spec.lo_us as f64 / 1000.0), fmt_ms(spec.hi_us as f64 / 1000.0),
                    if spec.symmetric { ", symmetric" } else { "" }, fmt_ms(spec.until_ms),
                )}
            </p>
            if running {
                <div class="sweep-progress" role="progressbar" aria-label="Sweep progress" aria-valuemin="0" aria-valuemax={total.to_string()} aria-valuenow={done.to_string()}>
                    <div class="bar"><div class="fill" style={format!("width: {:.1}%", 100.0 * done as f64 / total as f64)}></div></div>
                    <span>{format!("Simulating groups… {done} / {total} runs")}</span>
                </div>
            } else {
                <p class="takeaway">{takeaway(&sw, n_max)}</p>
            }
            <div class="charts">
                <LineChart title="Election messages" y_label="election messages after the crash" x_label="servers N"
                    x_range={(MIN_N as f64, n_max as f64)} series={messages} unit={Unit::Count} log_y={*log_y}>
                    <label class="log-toggle"><input type="checkbox" checked={*log_y} onchange={on_log} />{"log scale"}</label>
                </LineChart>
                <LineChart title="Crash → converged" y_label="recovery time (ms)" x_label="servers N"
                    x_range={(MIN_N as f64, n_max as f64)} series={recovery} unit={Unit::Ms} />
            </div>
        </section>
    }
}

/// The one sentence a reader should take away, read off the largest group.
fn takeaway(sw: &Sweep, n: usize) -> String {
    let index = |c| ENTRANTS.iter().position(|x| *x == c).expect("every entrant is swept");
    let at = |c| sw.point(n, index(c));
    // A entrant whose claims multiply past the budget is the headline.
    for (i, c) in ENTRANTS.iter().enumerate() {
        if let Some(k) = (MIN_N..=n).find(|&k| matches!(sw.point(k, i), Some(SweepPoint::Stopped { .. }))) {
            let who = match c {
                Entrant::Timer(_) => format!("Under {} timers", c.label()),
                _ => format!("Under {}", c.label()),
            };
            return format!(
                "{who} the claims multiply without settling: the run for N = {k} was stopped after {} events, and larger groups were not run.",
                thousands(MAX_EVENTS)
            );
        }
    }
    let (
        Some(SweepPoint::Ran { messages: em, recovery_ms: er }),
        Some(SweepPoint::Ran { messages: im, recovery_ms: ir }),
        Some(SweepPoint::Ran { messages: rm, recovery_ms: rr }),
    ) = (at(Entrant::Timer(SchemeName::Equal)), at(Entrant::Timer(SchemeName::Integral)), at(Entrant::Timer(SchemeName::Randomized)))
    else {
        return String::new();
    };
    let ms = |v: Option<f64>| v.map_or("never converges".to_string(), |v| format!("{v:.0} ms"));
    let same_time = matches!((er, ir), (Some(a), Some(b)) if (a - b).abs() < 1.0);
    let mut text = format!(
        "At N = {n}: equal timers send {} election messages, integral {}, randomized {}; recovery takes {}, {} and {}{}",
        thousands(em),
        thousands(im),
        thousands(rm),
        ms(er),
        ms(ir),
        ms(rr),
        if same_time && em > im { ": the storm costs messages, not time." } else { "." },
    );
    for c in [Entrant::Raft, Entrant::Bully] {
        if let Some(SweepPoint::Ran { messages, recovery_ms }) = at(c) {
            let took = recovery_ms.map_or("never converges".to_string(), |v| format!("recovers in {v:.0} ms"));
            text.push_str(&format!(" {} sends {} and {took}.", c.label(), thousands(messages)));
        }
    }
    text
}
