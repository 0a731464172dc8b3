//! The kill loop, once for every kind of [`Cluster`]: wait until the group
//! is healthy, SIGKILL the leader at a uniformly random phase of the
//! period, poll the survivors fast until all name the same new leader,
//! restart the killed member (it rejoins as a follower), repeat.

use super::cluster::{wait, Cluster, Poller, Watch};
use super::HarnessError;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Poll interval while a failover is being timed, and otherwise.
pub const FAST: Duration = Duration::from_millis(2);
pub const SLOW: Duration = Duration::from_millis(25);
/// How long a restarted member has to rejoin (normally well under 1 s; the
/// stagger dialers' backoff is at most 2 s).
pub const REJOIN: Duration = Duration::from_secs(10);
/// How long the survivors' reports may take to settle after they agreed.
const SETTLE: Duration = Duration::from_secs(2);
/// Restarts of a member that did not rejoin, before the loop gives up.
const RETRIES: usize = 3;

/// How a kill loop runs.
#[derive(Clone, Copy, Debug)]
pub struct KillPlan {
    pub kills: u32,
    /// Each kill lands at a uniformly random phase of this period.
    pub period: Duration,
    /// How long the group has to be healthy before each kill.
    pub healthy_within: Duration,
    /// A kill whose survivors do not agree within this long is a failure.
    pub agree_within: Duration,
}

/// One kill.
#[derive(Clone, Debug)]
pub struct Kill<S> {
    pub killed: usize,
    /// When the SIGKILL was sent (just before it).
    pub at: Instant,
    /// What the members said just before the kill.
    pub before: Vec<S>,
    /// The new leader, if the survivors agreed in time.
    pub winner: Option<usize>,
    /// From the kill until the last survivor was seen naming the winner.
    pub ms: Option<f64>,
    /// What the members said once they agreed (and their reports settled),
    /// or when the wait gave up.
    pub after: Vec<S>,
    /// The reports settled ([`Cluster::settled`]) after the agreement.
    pub settled: bool,
    /// From the restart of the killed member until all agree again.
    pub rejoin_ms: Option<f64>,
    /// The leader after the rejoin.
    pub leader_after: Option<usize>,
    /// What the members said when the rejoin did not settle.
    pub rejoin_failure: Option<String>,
    /// Where the traces or logs were saved when something went wrong.
    pub evidence: Option<PathBuf>,
}

/// Every kill done, and why the loop stopped early, if it did.
pub struct KillLog<S> {
    pub kills: Vec<Kill<S>>,
    pub aborted: Option<String>,
}

pub fn ms_since(t: Instant, from: Instant) -> f64 {
    t.saturating_duration_since(from).as_secs_f64() * 1000.0
}

/// Runs `plan` on a formed group watched by `p`; `report` hears of each
/// kill as it is done (its number from 0).
pub fn kill_loop<C: Cluster>(
    c: &mut C,
    p: &Poller<C::Seen>,
    plan: &KillPlan,
    rng: &mut stagger_core::Rng,
    report: impl FnMut(u32, &Kill<C::Seen>),
) -> Result<KillLog<C::Seen>, HarnessError> {
    kill_loop_with(c, p, plan, rng, |_, _, _| true, report)
}

/// [`kill_loop`], calling `before_kill(k, leader, c)` once the group is
/// healthy, just before each SIGKILL of `leader`: the kill is sent as soon
/// as it returns true, and its time ([`Kill::at`]) is taken after it; when
/// it returns false the loop stops there, without that kill.
pub fn kill_loop_with<C: Cluster>(
    c: &mut C,
    p: &Poller<C::Seen>,
    plan: &KillPlan,
    rng: &mut stagger_core::Rng,
    mut before_kill: impl FnMut(u32, usize, &C) -> bool,
    mut report: impl FnMut(u32, &Kill<C::Seen>),
) -> Result<KillLog<C::Seen>, HarnessError> {
    let n = c.len();
    let mut log = KillLog { kills: Vec::new(), aborted: None };
    for k in 0..plan.kills {
        std::thread::sleep(Duration::from_micros(rng.below(plan.period.as_micros() as u64)));
        p.set_interval(FAST);
        std::thread::sleep(SLOW + Duration::from_millis(5));
        let Some(leader) = wait(c, p, plan.healthy_within, |c, o| c.healthy(o))? else {
            log.aborted = Some(format!("before kill {}: the group is not healthy: {}", k + 1, c.roles(&p.snapshot())));
            break;
        };
        if !before_kill(k, leader, c) {
            break;
        }
        let before = p.snapshot();
        let survivors: Vec<usize> = (0..n).filter(|&i| i != leader).collect();
        let t0 = Instant::now();
        c.kill(leader);
        let got = wait(c, p, plan.agree_within, |c, o| c.agreement(o, &survivors).filter(|(_, since)| *since > t0))?;
        let settled = match got {
            Some((w, _)) => wait(c, p, SETTLE, |c, o| c.settled(&before, o, w).then_some(()))?.is_some(),
            None => false,
        };
        p.set_interval(SLOW);
        let after = p.snapshot();
        let mut kill = Kill {
            killed: leader,
            at: t0,
            winner: got.map(|(w, _)| w),
            ms: got.map(|(_, since)| ms_since(since, t0)),
            before,
            after,
            settled,
            rejoin_ms: None,
            leader_after: None,
            rejoin_failure: None,
            evidence: None,
        };
        if got.is_none() {
            kill.evidence = c.evidence(&format!("kill-{}", k + 1));
        }
        // Restart the killed member: it rejoins as a follower.
        c.start(leader)?;
        let t1 = Instant::now();
        let rejoined = wait(c, p, REJOIN, |c, o| c.healthy(o))?;
        kill.rejoin_ms = rejoined.map(|_| ms_since(Instant::now(), t1));
        kill.leader_after = rejoined;
        let mut repaired = rejoined.is_some();
        if !repaired {
            // Keep the evidence, then restart the rejoining member until the
            // group is one again, so the remaining kills still count.
            kill.rejoin_failure = Some(c.roles(&p.snapshot()));
            kill.evidence = c.evidence(&format!("rejoin-{}", k + 1)).or(kill.evidence);
            for _ in 0..RETRIES {
                c.kill(leader);
                c.start(leader)?;
                if wait(c, p, REJOIN, |c, o| c.healthy(o))?.is_some() {
                    repaired = true;
                    break;
                }
            }
        }
        report(k, &kill);
        log.kills.push(kill);
        if !repaired {
            log.aborted =
                Some(format!("after kill {}: the group did not heal after {} restarts: {}", k + 1, RETRIES + 1, c.roles(&p.snapshot())));
            break;
        }
    }
    Ok(log)
}

impl<S: Watch> KillLog<S> {
    /// The failover times of the kills that converged, in ms.
    pub fn times(&self) -> Vec<f64> {
        self.kills.iter().filter_map(|k| k.ms).collect()
    }

    /// Kills whose survivors did not agree in time.
    pub fn failures(&self) -> usize {
        self.kills.iter().filter(|k| k.ms.is_none()).count()
    }

    pub fn rejoin_times(&self) -> Vec<f64> {
        self.kills.iter().filter_map(|k| k.rejoin_ms).collect()
    }
}
