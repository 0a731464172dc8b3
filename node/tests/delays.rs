//! Every member of a live group measures its delays: real `stagger node`
//! processes on 127.0.0.1 emulating a known delay matrix, whose
//! `/api/delays` must show every peer with a one-way estimate near the
//! configured delay, within a few detection periods, at a probe cost of at
//! most one per peer per period.

use serde_json::{json, Value};
use stagger_core::measured::{merge, DelaysReport, Source, Statistic};
use stagger_tests::harness::{self, Reaped};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const STAGGER: &str = env!("CARGO_BIN_EXE_stagger");
const PERIOD_MS: f64 = 400.0;

/// One-way delays in ms, `C[from][to]`: 20 ms and 60 ms links, and one
/// asymmetric link (s2 → s3 20 ms, s3 → s2 60 ms) that round trips can
/// only see as 40 ms both ways.
fn matrix() -> Vec<Vec<u64>> {
    vec![vec![0, 20, 60, 20], vec![20, 0, 20, 60], vec![60, 20, 0, 20], vec![20, 60, 60, 0]]
}

/// What a round trip can see of the pair (i, j): half the sum of both ways.
fn expected(i: usize, j: usize) -> f64 {
    let c = matrix();
    (c[i][j] + c[j][i]) as f64 / 2.0
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 15.0 + 0.5 * want
}

fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).no_proxy().build().unwrap();
    let r = client.get(format!("http://{addr}{path}")).send().ok()?;
    Some((r.status().as_u16(), r.text().ok()?))
}

fn delays(addr: SocketAddr) -> Option<DelaysReport> {
    let (code, body) = get(addr, "/api/delays")?;
    (code == 200).then(|| serde_json::from_str(&body).unwrap_or_else(|e| panic!("/api/delays is not a DelaysReport ({e}): {body}")))
}

fn status(addr: SocketAddr) -> Option<Value> {
    let (code, body) = get(addr, "/api/status")?;
    (code == 200).then(|| serde_json::from_str(&body).ok()).flatten()
}

struct Group {
    _dir: tempfile::TempDir,
    ids: Vec<String>,
    addrs: Vec<SocketAddr>,
    children: Vec<Reaped>,
}

impl Group {
    fn start() -> Group {
        let ids: Vec<String> = ["s0", "s1", "s2", "s3"].iter().map(|s| s.to_string()).collect();
        let addrs = harness::free_ports(ids.len()).unwrap();
        let file = json!({
            "name": "delays-test",
            "servers": ids.iter().zip(&addrs).map(|(id, a)| json!({"id": id, "addr": a.to_string()})).collect::<Vec<_>>(),
            "ranking": ids,
            "delays_ms": matrix(),
            "timer": {"scheme": "integral", "base_ms": 30, "guard_ms": 50},
            "detection": {"period_ms": PERIOD_MS, "timeout_ms": 250},
            "secret": "delays-test-secret",
            "emulate_delays": true
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group.json");
        std::fs::write(&path, file.to_string()).unwrap();
        let children = (ids.iter())
            .map(|id| {
                let log = std::fs::File::create(dir.path().join(format!("{id}.log"))).unwrap();
                harness::spawn_node(STAGGER, &path, id, &[], log.into())
            })
            .collect();
        Group { _dir: dir, ids, addrs, children }
    }

    fn alive(&mut self) {
        for (c, id) in self.children.iter_mut().zip(&self.ids) {
            assert!(c.exited().is_none(), "{id} exited");
        }
    }

    /// The member everyone follows, once they agree.
    fn master(&self) -> Option<usize> {
        let all: Vec<Value> = self.addrs.iter().map(|a| status(*a)).collect::<Option<_>>()?;
        let m = all[0]["master"].as_str()?;
        all.iter().all(|s| s["master"] == m).then(|| self.ids.iter().position(|id| id == m)).flatten()
    }
}

/// Whether member `i`'s report has every peer with samples and a one-way
/// estimate near what its round trips can see.
fn measured_everyone(g: &Group, i: usize, r: &DelaysReport) -> bool {
    (0..g.ids.len())
        .filter(|&j| j != i)
        .all(|j| r.peers.get(&g.ids[j]).is_some_and(|d| d.samples >= 3 && close(d.one_way_ms, expected(i, j))))
}

#[test]
fn every_member_measures_every_peer_close_to_the_emulated_delays_at_one_probe_per_peer_per_period() {
    let mut g = Group::start();
    let n = g.ids.len();
    let start = Instant::now();
    let limit = Duration::from_secs(30);
    while g.master().is_none() {
        g.alive();
        assert!(start.elapsed() < limit, "no agreed master within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let master = g.master().unwrap();
    // A few periods after the group formed, every member has measured
    // every peer (the window is 16 periods; samples come once a period).
    let agreed = Instant::now();
    let limit = Duration::from_secs_f64(12.0 * PERIOD_MS / 1000.0) + Duration::from_secs(5);
    let reports = loop {
        g.alive();
        let reports: Vec<Option<DelaysReport>> = g.addrs.iter().map(|a| delays(*a)).collect();
        if reports.iter().enumerate().all(|(i, r)| r.as_ref().is_some_and(|r| measured_everyone(&g, i, r))) {
            break reports.into_iter().map(Option::unwrap).collect::<Vec<_>>();
        }
        assert!(agreed.elapsed() < limit, "not every member measured every peer within {limit:?}: {reports:#?}");
        std::thread::sleep(Duration::from_millis(200));
    };

    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.id, g.ids[i]);
        assert!(r.method.contains("halved"), "{}", r.method);
        assert_eq!(r.period_ms, PERIOD_MS);
        for (peer, d) in &r.peers {
            assert!(d.min_ms <= d.median_ms && d.median_ms <= d.p99_ms && d.p99_ms <= d.max_ms, "{peer}: {d:?}");
            assert!((d.one_way_ms - d.median_ms / 2.0).abs() < 1e-6, "{peer}: {d:?}");
            assert_eq!(d.samples, d.from_inquiries + d.from_probes);
        }
        // At most one probe per other member per detection period (and one
        // period of slack for the slot that just started).
        let periods = r.uptime_ms / r.period_ms;
        let bound = (n - 1) as f64 * (periods + 1.0);
        assert!((r.probes_sent as f64) <= bound, "{}: {} probes in {periods:.1} periods, more than {bound}", r.id, r.probes_sent);
        assert!((r.probes_answered as f64) <= bound, "{}: answered {} probes in {periods:.1} periods", r.id, r.probes_answered);
        assert!(r.probes_sent > 0);
    }
    // A Backup measures its master from the inquiries it sends anyway, so
    // once they flow it probes only the other Backups; the master answers
    // inquiries and sends none. (A probe or two of the master from before
    // the group formed may still be in the window.)
    std::thread::sleep(Duration::from_secs_f64(5.0 * PERIOD_MS / 1000.0));
    let later: Vec<DelaysReport> = g.addrs.iter().map(|a| delays(*a).expect("a member answers")).collect();
    for i in (0..n).filter(|&i| i != master) {
        let (before, after) = (&reports[i].peers[&g.ids[master]], &later[i].peers[&g.ids[master]]);
        assert!(after.from_inquiries >= before.from_inquiries + 3, "{} measures its master by its inquiries: {after:?}", g.ids[i]);
        assert!(after.from_probes <= before.from_probes, "{} probed its master while it answered inquiries: {after:?}", g.ids[i]);
        let periods = (later[i].uptime_ms - reports[i].uptime_ms) / PERIOD_MS;
        let probes = later[i].probes_sent - reports[i].probes_sent;
        let bound = (n - 2) as f64 * (periods + 1.0);
        assert!(probes as f64 <= bound, "{}: {probes} probes in {periods:.1} periods, more than one per other Backup", g.ids[i]);
        assert!(later[i].round_trips.get(&Source::Inquiry).is_some_and(|k| *k >= after.from_inquiries as u64), "{:?}", later[i]);
    }
    assert!(later[master].peers.values().all(|d| d.from_inquiries == 0), "the master sends no inquiries");

    // The group's matrix, merged from every member's answer.
    let m = merge(&g.ids, &later, Statistic::Median);
    assert!(m.is_complete(), "{m:?}");
    for i in 0..n {
        for j in 0..n {
            let got = m.one_way_ms[i][j].unwrap();
            if i == j {
                assert_eq!(got, 0.0);
            } else {
                assert!(close(got, expected(i, j)), "merged [{i}][{j}] = {got}, want about {}", expected(i, j));
                assert_eq!(got, m.one_way_ms[j][i].unwrap(), "symmetric");
            }
        }
    }

    let (code, body) = {
        let client = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
        let r = client.post(format!("http://{}/api/delays", g.addrs[0])).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!((code, body.trim()), (405, "use GET"));
}
