//! The playground's state: one `Reducible` value owned by the `App` through
//! `use_reducer`, changed only by [`Action`]s (after Yew's function_todomvc).
//!
//! Every edit of the scenario re-validates it with the CLI's own validation
//! and re-runs the simulation in the tab, so what the page shows is always
//! what `stagger sim` would print for the same file. A run that does not
//! finish within its first slice goes on in slices between frames
//! ([`Job`], driven by `components::run_status`), so a heavy link never
//! freezes the page.

use crate::edit;
use stagger_core::delays::{report, DelayReport};
use stagger_core::render::svg::{plot, space_time, Plot, SvgOptions};
use stagger_core::scenario::ScenarioWarning;
use stagger_core::{Progress, Run, Scenario, ScenarioError, ScenarioFile, Sim, Time};
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use yew::Reducible;

/// The tabs of the playground.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// The scenario's election at a glance: metrics, the diagram as
    /// `stagger render` draws it, the delay table. What a first visit shows,
    /// and all of it comes from the page's own (small) module.
    Overview,
    Edit,
    Watch,
    Compare,
    Live,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Overview, Tab::Edit, Tab::Watch, Tab::Compare, Tab::Live];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Edit => "Edit",
            Tab::Watch => "Watch",
            Tab::Compare => "Compare",
            Tab::Live => "Live",
        }
    }

    /// The tab's name in URLs and between the playground's modules.
    pub fn name(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Edit => "edit",
            Tab::Watch => "watch",
            Tab::Compare => "compare",
            Tab::Live => "live",
        }
    }

    pub fn from_name(name: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Everything derived from a valid scenario.
#[derive(Debug)]
pub struct Computed {
    pub scenario: Scenario,
    /// The run, with its trace.
    pub run: Run,
    pub report: DelayReport,
    /// The space-time diagram as SVG markup, drawn when first asked for
    /// (only the Watch tab draws it, and the page's module then carries no
    /// renderer; see `bridge`).
    svg: OnceCell<String>,
    /// Where the diagram's time axis lies.
    pub plot: Plot,
    /// The instants at which something happens, in order, for stepping.
    pub times: Vec<Time>,
    /// What in the scenario makes its run mislead, by field; found when
    /// first asked for, so a module that never shows them (the embed's)
    /// carries neither the checks nor their wording.
    warnings: OnceCell<Vec<ScenarioWarning>>,
}

impl Computed {
    /// Runs `scenario` in one go.
    pub fn new(scenario: Scenario) -> Computed {
        let run = Sim::new(&scenario, true).run();
        Computed::from_run(scenario, run)
    }

    pub fn from_run(scenario: Scenario, run: Run) -> Computed {
        let report = report(&scenario);
        let opts = SvgOptions::default();
        let plot = plot(&scenario, &run, &opts);
        let mut times: Vec<Time> = run.trace.as_ref().map(|t| t.events.iter().map(|e| e.t).collect()).unwrap_or_default();
        times.dedup();
        Computed { scenario, run, report, svg: OnceCell::new(), plot, times, warnings: OnceCell::new() }
    }

    /// The space-time diagram, as `stagger render` draws it.
    pub fn svg(&self) -> &str {
        self.svg.get_or_init(|| space_time(&self.scenario, &self.run, &SvgOptions::default()))
    }

    /// What in the scenario makes its run mislead (the Overview's banner,
    /// the editor's field notes).
    pub fn warnings(&self) -> &[ScenarioWarning] {
        self.warnings.get_or_init(|| self.scenario.warnings())
    }
}

/// Events run before the page is drawn: every preset finishes well within
/// them (the largest, the storm, takes a few thousand), and they take a few
/// tens of milliseconds at worst in a tab.
pub const FIRST_SLICE: u32 = 100_000;

/// A run going on in slices. The simulator holds its scenario shared, so
/// it can live between frames.
pub struct Job {
    scenario: Rc<Scenario>,
    sim: RefCell<Option<Sim<Rc<Scenario>>>>,
    /// Whether the playhead goes back to the start when it is shown.
    reset_playhead: bool,
}

impl Job {
    /// Runs up to `events` more events; `Done` once the run can be shown.
    pub fn advance(&self, events: u32) -> Progress {
        match self.sim.borrow_mut().as_mut() {
            Some(sim) => sim.run_for(events),
            None => Progress::Done,
        }
    }

    /// The virtual time reached, the time the run ends at, and the events
    /// processed so far.
    pub fn progress(&self) -> (Time, Time, u64) {
        let sim = self.sim.borrow();
        let (now, events) = sim.as_ref().map_or((self.scenario.until, 0), |s| (s.now(), s.events()));
        (now, self.scenario.until, events)
    }

    /// The run so far: whole once [`Job::advance`] said `Done`, or marked
    /// cancelled before that.
    fn take(&self, cancel: bool) -> Option<Computed> {
        let sim = self.sim.borrow_mut().take()?;
        let run = if cancel { sim.cancel() } else { sim.finish() };
        Some(Computed::from_run((*self.scenario).clone(), run))
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("progress", &self.progress()).finish()
    }
}

/// One job is equal only to itself.
impl PartialEq for Job {
    fn eq(&self, o: &Job) -> bool {
        std::ptr::eq(self, o)
    }
}

/// The result of the last edit: a run, a run still going on, or the
/// validation error that prevented it.
#[derive(Clone, Debug)]
pub enum RunOutcome {
    Ok(Rc<Computed>),
    Running(Rc<Job>),
    Invalid(ScenarioError),
}

impl RunOutcome {
    /// Validates `file` and runs it for [`FIRST_SLICE`] events: the whole
    /// run, or a [`Job`] to go on with.
    fn start(file: &ScenarioFile, reset_playhead: bool) -> RunOutcome {
        let scenario = match file.validate() {
            Ok(s) => Rc::new(s),
            Err(e) => return RunOutcome::Invalid(e),
        };
        let mut sim = Sim::new(scenario.clone(), true);
        if sim.run_for(FIRST_SLICE) == Progress::Done {
            let run = sim.finish();
            let scenario = Rc::try_unwrap(scenario).unwrap_or_else(|shared| (*shared).clone());
            return RunOutcome::Ok(Rc::new(Computed::from_run(scenario, run)));
        }
        RunOutcome::Running(Rc::new(Job { scenario, sim: RefCell::new(Some(sim)), reset_playhead }))
    }

    /// The run going on, if any.
    pub fn running(&self) -> Option<&Rc<Job>> {
        match self {
            RunOutcome::Running(j) => Some(j),
            _ => None,
        }
    }

    /// The warnings of a valid scenario; none while it is invalid.
    pub fn warnings(&self) -> &[ScenarioWarning] {
        self.computed().map_or(&[], |c| c.warnings())
    }

    pub fn computed(&self) -> Option<&Rc<Computed>> {
        match self {
            RunOutcome::Ok(c) => Some(c),
            RunOutcome::Running(_) | RunOutcome::Invalid(_) => None,
        }
    }

    pub fn error(&self) -> Option<&ScenarioError> {
        match self {
            RunOutcome::Invalid(e) => Some(e),
            RunOutcome::Ok(_) | RunOutcome::Running(_) => None,
        }
    }
}

/// Playback speeds offered, in virtual milliseconds per real second.
pub const SPEEDS: [f64; 7] = [50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0];
pub const DEFAULT_SPEED: usize = 2;

#[derive(Clone, Debug)]
pub struct Playground {
    /// The scenario as the user edits it.
    pub file: ScenarioFile,
    /// The last valid run. Kept while the file is invalid, so the diagram
    /// does not vanish while a number is half typed.
    pub last_good: Option<Rc<Computed>>,
    pub outcome: RunOutcome,
    /// Edit the mirror cell too when a matrix cell changes.
    pub symmetric: bool,
    pub tab: Tab,
    pub playhead: Time,
    pub playing: bool,
    /// An index into [`SPEEDS`].
    pub speed: usize,
    pub help: bool,
    /// A transient message: "link copied", or why an import failed.
    pub notice: Option<String>,
    /// The admin token of a live group, from the `token=` fragment
    /// parameter that `stagger demo` puts in its URL, kept for the session
    /// ([`crate::credentials`]).
    pub live_token: Option<String>,
    /// The live group's secret, from the `secret=` fragment parameter that
    /// `stagger demo` puts in its URL, to prefill "Join as a browser member".
    /// Kept for the session like the token; the page drops both from the
    /// address bar on load.
    pub live_secret: Option<String>,
    /// An error that stopped the page from loading what it was asked to
    /// (a malformed `#scenario=` fragment). Shown until the next load.
    pub load_error: Option<String>,
    /// How many times the user switched to another scenario ([`Action::Switch`]).
    /// The page adds a history entry for each, so the browser's Back returns
    /// to the scenario and tab before; edits only replace the current entry.
    pub switches: u32,
}

/// Derived runs compare by identity: a new run is a new `Rc`.
impl PartialEq for Playground {
    fn eq(&self, o: &Playground) -> bool {
        let same_run = match (&self.last_good, &o.last_good) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_run
            && self.file == o.file
            && self.outcome.error() == o.outcome.error()
            && self.outcome.running() == o.outcome.running()
            && self.symmetric == o.symmetric
            && self.tab == o.tab
            && self.playhead == o.playhead
            && self.playing == o.playing
            && self.speed == o.speed
            && self.help == o.help
            && self.notice == o.notice
            && self.load_error == o.load_error
            && self.live_token == o.live_token
            && self.live_secret == o.live_secret
            && self.switches == o.switches
    }
}

/// Everything that can change the playground.
#[derive(Clone, Debug)]
pub enum Action {
    /// Replace the whole scenario (a shared link, the browser's Back).
    Load(ScenarioFile),
    /// The user chose another scenario (a preset, an import, a compared
    /// variant), and maybe another tab: a load that the browser's history
    /// records ([`Playground::switches`]).
    Switch(ScenarioFile, Option<Tab>),
    /// Show the scenario and the tab that the URL names, each if it names
    /// one, after the browser moved (Back, Forward, a pasted link). The
    /// scenario is loaded only if it is not the one shown: one move fires
    /// both `popstate` and `hashchange`.
    Follow(Option<ScenarioFile>, Option<Tab>),
    /// A page load whose scenario could not be read; the reason is shown.
    LoadFailed(String),
    /// Replace the scenario with an edited copy.
    Update(ScenarioFile),
    /// One of the structural edits of [`edit`].
    Edit(edit::Edit),
    SetSymmetric(bool),
    SetTab(Tab),
    Play,
    Pause,
    TogglePlay,
    /// Move to the next (`+1`) or previous (`-1`) instant with an event.
    Step(i32),
    Seek(Time),
    /// Advance playback by this much real time, in milliseconds.
    Tick(f64),
    Faster,
    Slower,
    /// Pick a speed by its index into [`SPEEDS`].
    SetSpeed(usize),
    ToggleHelp,
    CloseOverlays,
    Notice(Option<String>),
    /// The job going on has finished: show its run.
    Finished(Rc<Job>),
    /// Stop the job going on and show what it has run, marked partial.
    Cancel,
}

impl Playground {
    pub fn new(file: ScenarioFile) -> Playground {
        let outcome = RunOutcome::start(&file, true);
        let last_good = outcome.computed().cloned();
        let playhead = last_good.as_ref().map_or(Time::ZERO, |c| c.plot.from);
        Playground {
            file,
            last_good,
            outcome,
            symmetric: true,
            tab: Tab::Overview,
            playhead,
            playing: false,
            speed: DEFAULT_SPEED,
            help: false,
            notice: None,
            live_token: None,
            live_secret: None,
            load_error: None,
            switches: 0,
        }
    }

    /// Virtual milliseconds per real second.
    pub fn speed_ms_per_s(&self) -> f64 {
        SPEEDS[self.speed]
    }

    /// Applies a structural edit, or says why it could not be made.
    #[cfg(any(feature = "views", not(any(feature = "app", feature = "embed"))))]
    fn edit(&mut self, e: edit::Edit) {
        let mut file = self.file.clone();
        match edit::apply(&mut file, e, self.symmetric) {
            Ok(()) => self.set_file(file, false),
            Err(why) => self.notice = Some(why),
        }
    }

    /// Only the editor (in the `views` module) makes structural edits, so
    /// the page's and the embed's modules leave [`edit::apply`] out, and
    /// with it the float parser's tables that only its CSV paste needs:
    /// about 50 KB of wasm they would never run, 26 KB gzipped (see
    /// [`crate::bridge`]).
    #[cfg(not(any(feature = "views", not(any(feature = "app", feature = "embed")))))]
    fn edit(&mut self, _: edit::Edit) {}

    fn load(&mut self, file: ScenarioFile) {
        self.load_error = None;
        self.playing = false;
        self.set_file(file, true);
    }

    fn set_tab(&mut self, t: Tab) {
        // Playback only shows on the Watch tab; ticking elsewhere would
        // re-render a large editor 30 times a second.
        if t != Tab::Watch {
            self.playing = false;
        }
        self.tab = t;
    }

    fn set_file(&mut self, file: ScenarioFile, reset_playhead: bool) {
        self.file = file;
        self.outcome = RunOutcome::start(&self.file, reset_playhead);
        self.show(reset_playhead);
    }

    /// Makes a finished run the one shown. While a job goes on, the last
    /// run stays shown.
    fn show(&mut self, reset_playhead: bool) {
        if let Some(c) = self.outcome.computed() {
            self.last_good = Some(c.clone());
            if reset_playhead || self.playhead < c.plot.from || self.playhead > c.plot.to {
                self.playhead = c.plot.from;
            }
        }
    }

    /// Ends the job going on, if it is `job` (or any, for `None`): finished
    /// or cancelled, its run becomes the outcome.
    fn end_job(&mut self, job: Option<&Rc<Job>>, cancel: bool) {
        let Some(current) = self.outcome.running().cloned() else { return };
        if job.is_some_and(|j| !Rc::ptr_eq(j, &current)) {
            return;
        }
        if let Some(c) = current.take(cancel) {
            self.outcome = RunOutcome::Ok(Rc::new(c));
            self.show(current.reset_playhead);
        }
    }
}

impl Reducible for Playground {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Load(file) => s.load(file),
            Action::Switch(file, tab) => {
                s.switches += 1;
                s.load(file);
                if let Some(t) = tab {
                    s.set_tab(t);
                }
            }
            Action::Follow(file, tab) => {
                if let Some(f) = file.filter(|f| *f != s.file || s.load_error.is_some()) {
                    s.load(f);
                }
                if let Some(t) = tab {
                    s.set_tab(t);
                }
            }
            Action::LoadFailed(why) => s.load_error = Some(why),
            Action::Update(file) => s.set_file(file, false),
            Action::Edit(e) => s.edit(e),
            Action::SetSymmetric(on) => s.symmetric = on,
            Action::SetTab(t) => s.set_tab(t),
            Action::Play => s.playing = s.last_good.is_some(),
            Action::Pause => s.playing = false,
            Action::TogglePlay => {
                if let Some(c) = &s.last_good {
                    if !s.playing && s.playhead >= c.plot.to {
                        s.playhead = c.plot.from;
                    }
                    s.playing = !s.playing;
                }
            }
            Action::Step(dir) => {
                s.playing = false;
                if let Some(c) = &s.last_good {
                    let times = &c.times;
                    let next = if dir >= 0 {
                        times.get(times.partition_point(|t| *t <= s.playhead)).copied()
                    } else {
                        times.partition_point(|t| *t < s.playhead).checked_sub(1).map(|i| times[i])
                    };
                    if let Some(t) = next {
                        s.playhead = t.clamp(c.plot.from, c.plot.to);
                    }
                }
            }
            Action::Seek(t) => {
                if let Some(c) = &s.last_good {
                    s.playhead = t.clamp(c.plot.from, c.plot.to);
                }
            }
            Action::Tick(real_ms) => {
                if let (true, Some(c)) = (s.playing, &s.last_good) {
                    let advance = (real_ms.max(0.0) * s.speed_ms_per_s()).round() as u64; // µs
                    s.playhead = Time(s.playhead.0 + advance);
                    if s.playhead >= c.plot.to {
                        s.playhead = c.plot.to;
                        s.playing = false;
                    }
                }
            }
            Action::Faster => s.speed = (s.speed + 1).min(SPEEDS.len() - 1),
            Action::Slower => s.speed = s.speed.saturating_sub(1),
            Action::SetSpeed(i) => s.speed = i.min(SPEEDS.len() - 1),
            Action::ToggleHelp => s.help = !s.help,
            Action::CloseOverlays => {
                s.help = false;
                s.notice = None;
            }
            Action::Notice(n) => s.notice = n,
            Action::Finished(job) => s.end_job(Some(&job), false),
            Action::Cancel => {
                s.playing = false;
                s.end_job(None, true);
            }
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    //! Run natively by `cargo test` and in wasm under node by
    //! `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    use crate::edit::Edit;
    use crate::presets;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn start() -> Rc<Playground> {
        Rc::new(Playground::new(presets::default_file()))
    }

    #[test]
    fn a_new_playground_runs_its_scenario() {
        let p = start();
        let c = p.last_good.as_ref().expect("the default preset runs");
        assert_eq!(c.run.metrics.final_master.as_deref(), Some("atlanta"));
        assert_eq!(c.run.metrics.converged_at_ms, Some(2570.0));
        assert_eq!(p.playhead, c.plot.from, "playback starts at the left edge of the diagram");
    }

    #[test]
    fn the_outcome_finds_its_warnings_when_asked_and_keeps_them() {
        let mut f = presets::default_file();
        f.until_ms = Some(1000.0);
        let p = Playground::new(f.clone());
        let want = f.validate().unwrap().warnings();
        assert_eq!(want.len(), 1, "the crash at 1900 ms is never applied");
        assert_eq!(p.outcome.warnings(), &want[..]);
        let c = p.outcome.computed().unwrap();
        assert!(std::ptr::eq(c.warnings(), c.warnings()), "found once, then kept");
        assert!(start().outcome.warnings().is_empty(), "the default preset has none");
    }

    #[test]
    fn an_edit_reruns_the_simulation() {
        let p = start();
        let before = p.last_good.clone().unwrap();
        let p = p.reduce(Action::Edit(Edit::SetDelay { j: 1, k: 2, ms: 400.0 }));
        let after = p.last_good.clone().unwrap();
        assert!(!Rc::ptr_eq(&before, &after));
        assert_eq!(p.file.delays_ms[2][1], 400.0, "symmetric editing is on by default");
        assert_ne!(after.run.metrics.converged_at_ms, before.run.metrics.converged_at_ms);
    }

    #[test]
    fn an_invalid_edit_keeps_the_last_good_run_and_names_the_field() {
        let p = start();
        let good = p.last_good.clone().unwrap();
        let p = p.reduce(Action::Edit(Edit::SetDelay { j: 1, k: 2, ms: -5.0 }));
        let e = p.outcome.error().expect("a negative delay is refused");
        assert_eq!(e.field, "delays_ms[1][2]");
        assert!(Rc::ptr_eq(p.last_good.as_ref().unwrap(), &good));
    }

    #[test]
    fn stepping_visits_event_instants_in_order() {
        let p = start();
        let c = p.last_good.clone().unwrap();
        let p = p.reduce(Action::Step(1));
        let first = p.playhead;
        assert!(first > c.plot.from);
        assert!(c.times.contains(&first));
        let p = p.reduce(Action::Step(1));
        assert!(p.playhead > first);
        let p = p.reduce(Action::Step(-1));
        assert_eq!(p.playhead, first);
    }

    #[test]
    fn playback_advances_with_speed_and_stops_at_the_end() {
        let p = start();
        let c = p.last_good.clone().unwrap();
        let p = p.reduce(Action::Play);
        assert!(p.playing);
        let from = p.playhead;
        let p = p.reduce(Action::Tick(100.0));
        // 100 ms of real time at 250 virtual ms per second = 25 virtual ms.
        assert_eq!(p.playhead.0 - from.0, 25_000);
        let p = p.reduce(Action::Tick(1e9));
        assert_eq!(p.playhead, c.plot.to);
        assert!(!p.playing);
        let p = p.reduce(Action::TogglePlay);
        assert!(p.playing);
        assert_eq!(p.playhead, c.plot.from, "playing again from the end restarts");
    }

    #[test]
    fn seeking_is_clamped_to_the_window() {
        let p = start();
        let c = p.last_good.clone().unwrap();
        assert_eq!(p.clone().reduce(Action::Seek(Time(0))).playhead, c.plot.from);
        assert_eq!(p.reduce(Action::Seek(Time(u64::MAX))).playhead, c.plot.to);
    }

    #[test]
    fn speed_and_overlays() {
        let p = start();
        let p = p.reduce(Action::Faster).reduce(Action::Faster);
        assert_eq!(p.speed, DEFAULT_SPEED + 2);
        let p = (0..20).fold(p, |p, _| p.reduce(Action::Slower));
        assert_eq!(p.speed, 0);
        let p = p.reduce(Action::ToggleHelp).reduce(Action::Notice(Some("x".into())));
        assert!(p.help && p.notice.is_some());
        let p = p.reduce(Action::CloseOverlays);
        assert!(!p.help && p.notice.is_none());
    }

    #[test]
    fn a_shared_link_to_a_raft_scenario_opens_and_runs_raft() {
        use base64::Engine;
        // As a user or a script writes it: the preset's JSON with one more key.
        let text =
            include_str!("../../static/scenarios/patent-5.json").replacen('{', r#"{"algorithm": "raft", "raft": {"prevote": true},"#, 1);
        let link = format!("#scenario={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text.as_bytes()));
        let crate::share::Fragment::Scenario(file) = crate::share::decode(&link) else { panic!("the link reads") };
        let file = ScenarioFile::from_json(&serde_json::to_string(&file).unwrap()).unwrap();
        assert_eq!(file.algorithm, Some(stagger_core::scenario::AlgorithmName::Raft));
        let p = Rc::new(Playground::new(file.clone()));
        let c = p.last_good.as_ref().expect("a raft scenario validates and runs");
        assert!(matches!(c.scenario.algorithm, stagger_core::Algorithm::Raft(r) if r.prevote));
        let trace = c.run.trace.as_ref().unwrap();
        assert!(trace.sends_of(stagger_core::MessageKind::RequestVote) > 0);
        assert!(c.svg().contains("class=\"msg request-vote"), "the diagram draws Raft's messages");
        // The link the page writes back says raft too.
        let again = crate::share::encode(&p.file);
        assert!(matches!(crate::share::decode(&again), crate::share::Fragment::Scenario(f) if f.algorithm == file.algorithm));
    }

    #[test]
    fn a_heavy_scenario_goes_on_in_slices_and_cancel_shows_it_partial() {
        use stagger_core::sim::Limit;
        let mut heavy = presets::default_file();
        heavy.until_ms = Some(2e7);
        let p = start();
        let before = p.last_good.clone().unwrap();
        let p = p.reduce(Action::Load(heavy.clone()));
        let job = p.outcome.running().cloned().expect("the run goes on after its first slice");
        assert!(Rc::ptr_eq(p.last_good.as_ref().unwrap(), &before), "the last run stays shown meanwhile");
        assert_eq!(job.advance(1000), Progress::More);
        let (now, until, events) = job.progress();
        assert!(now > Time::ZERO && now < until && events > 0, "{now:?} {until:?} {events}");
        let p = p.reduce(Action::Cancel);
        assert!(p.outcome.running().is_none());
        let cut = p.last_good.as_ref().unwrap().run.metrics.truncated.expect("marked partial");
        assert_eq!((cut.limit, cut.at_ms), (Limit::Cancelled, now.as_ms()));
        // A finished job is shown whole, as one run in one go.
        let p = Rc::new(Playground::new(heavy.clone()));
        assert!(p.last_good.is_none(), "nothing to show until it finishes");
        let job = p.outcome.running().cloned().unwrap();
        while job.advance(100_000) == Progress::More {}
        let p = p.reduce(Action::Finished(job.clone()));
        let c = p.last_good.clone().expect("shown");
        assert_eq!(c.run.metrics, Sim::new(&heavy.validate().unwrap(), false).run().metrics);
        assert_eq!(c.run.metrics.truncated, None);
        // A job that was replaced meanwhile is not shown.
        let p = p.reduce(Action::Load(heavy)).reduce(Action::Finished(job));
        assert!(p.outcome.running().is_some());
    }

    #[test]
    fn a_switch_loads_the_file_and_tab_and_counts_for_the_history() {
        let p = start().reduce(Action::SetTab(Tab::Compare)).reduce(Action::Play);
        let storm = presets::file("storm").unwrap();
        let q = p.clone().reduce(Action::Switch(storm.clone(), Some(Tab::Watch)));
        assert_eq!((q.file == storm, q.tab, q.switches, q.playing), (true, Tab::Watch, p.switches + 1, false));
        assert_eq!(q.playhead, q.last_good.as_ref().unwrap().plot.from, "a new scenario plays from its start");
        let r = q.reduce(Action::Switch(presets::default_file(), None));
        assert_eq!((r.tab, r.switches), (Tab::Watch, p.switches + 2), "no tab given: the tab stays");
        // An edit is not a switch.
        let e = r.clone().reduce(Action::Edit(Edit::SetDelay { j: 1, k: 2, ms: 400.0 }));
        assert_eq!(e.switches, r.switches);
    }

    #[test]
    fn following_the_url_back_restores_its_scenario_and_tab_once() {
        let p = start().reduce(Action::SetTab(Tab::Compare));
        let q = p.clone().reduce(Action::Switch(presets::file("storm").unwrap(), Some(Tab::Watch)));
        // Back: the entry before names the first scenario on Compare.
        let back = q.reduce(Action::Follow(Some(p.file.clone()), Some(Tab::Compare)));
        assert_eq!((back.file == p.file, back.tab), (true, Tab::Compare));
        let run = back.last_good.clone().unwrap();
        // The same move's second event changes nothing, and re-runs nothing.
        let again = back.reduce(Action::Follow(Some(p.file.clone()), Some(Tab::Compare)));
        assert!(Rc::ptr_eq(again.last_good.as_ref().unwrap(), &run));
        // A URL without a scenario or a tab (an old link) keeps the one shown.
        let o = again.clone().reduce(Action::Follow(None, Some(Tab::Live)));
        assert_eq!((o.file == p.file, o.tab), (true, Tab::Live));
        let storm = presets::file("storm").unwrap();
        let o = again.reduce(Action::Follow(Some(storm.clone()), None));
        assert_eq!((o.file == storm, o.tab), (true, Tab::Compare));
    }

    #[test]
    fn loading_a_file_resets_playback_and_clears_a_load_error() {
        let p = start().reduce(Action::LoadFailed("bad link".into()));
        assert!(p.load_error.is_some());
        let p = p.reduce(Action::Load(presets::file("storm").unwrap()));
        assert!(p.load_error.is_none());
        assert_eq!(p.last_good.as_ref().unwrap().run.metrics.final_master.as_deref(), Some("node-1"));
    }
}
