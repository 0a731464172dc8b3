//! The messages on the wire, indexed for "what is in flight at `t`?".
//!
//! The group view asks this on every playback frame. Copies are recorded in
//! send order (the trace is time-ordered), so the copies sent by `t` are a
//! prefix found by binary search; and none of them can still be in flight
//! if it was sent more than the longest flight before `t`, which bounds the
//! scan backwards. A frame costs O(log m + copies near `t`), not O(m).

use stagger_core::sim::{TraceEvent, What};
use stagger_core::{MessageKind, Time};
use std::collections::HashMap;

/// A copy that reached the network: from `send` to `arrive`; `lost` when
/// it was dropped on arrival (receiver down).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flight {
    pub from: u32,
    pub to: u32,
    pub kind: MessageKind,
    pub send: Time,
    pub arrive: Time,
    pub lost: bool,
}

/// Every copy that was delivered or dropped on arrival, by send time.
#[derive(Debug, Default)]
pub struct Flights {
    list: Vec<Flight>,
    /// The longest flight, in µs.
    longest: u64,
}

impl Flights {
    /// Reads the copies of a trace among `n` servers. Copies dropped at
    /// send time (loss, partition) never fly and are left out.
    pub fn of(events: &[TraceEvent], n: usize) -> Flights {
        let mut list: Vec<Flight> = Vec::new();
        let mut by_id: HashMap<u64, usize> = HashMap::new();
        for e in events {
            match &e.what {
                What::Send { id, from, to, msg, arrive: Some(a) } if (*from as usize) < n && (*to as usize) < n => {
                    by_id.insert(*id, list.len());
                    list.push(Flight { from: *from, to: *to, kind: msg.kind(), send: e.t, arrive: *a, lost: false });
                }
                What::Drop { id, .. } => {
                    if let Some(&i) = by_id.get(id) {
                        list[i].lost = true;
                    }
                }
                _ => {}
            }
        }
        let longest = list.iter().map(|f| f.arrive.0 - f.send.0).max().unwrap_or(0);
        Flights { list, longest }
    }

    /// The copies on the wire at `t`, each with how far along it is (0..1).
    pub fn at(&self, t: Time) -> impl Iterator<Item = (&Flight, f64)> {
        let hi = self.list.partition_point(|f| f.send <= t);
        let lo = self.list[..hi].partition_point(|f| f.send.0 + self.longest < t.0);
        self.list[lo..hi].iter().filter(move |f| f.arrive > t).map(move |f| {
            let span = (f.arrive.0 - f.send.0).max(1) as f64;
            (f, (t.0 - f.send.0) as f64 / span)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagger_core::Sim;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn finds_the_declares_in_flight() {
        let s = crate::presets::default_file().validate().unwrap();
        let run = Sim::new(&s, true).run();
        let fl = Flights::of(&run.trace.unwrap().events, s.len());
        let declares: Vec<_> = fl.at(Time::from_ms(2460)).filter(|(f, _)| f.kind == MessageKind::Declare).collect();
        assert_eq!(declares.len(), 4, "one broadcast to the other four, the crashed one included");
        assert!(declares.iter().all(|(_, p)| (0.0..1.0).contains(p)));
        assert!(declares.iter().any(|(f, _)| f.lost), "the copy to the crashed ottawa is dropped on arrival");
        // A brute-force scan agrees with the binary search at every millisecond.
        for m in 0..4000 {
            let t = Time::from_ms(m);
            let slow = fl.list.iter().filter(|f| f.send <= t && f.arrive > t).count();
            assert_eq!(fl.at(t).count(), slow, "at {m} ms");
        }
    }
}
