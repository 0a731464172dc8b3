//! The event queue of SPEC §6, ordered by `(time, class, seq)`.
//!
//! `seq` grows with every send and every arming, so within one
//! `(time, class)` the events arrive already in `seq` order. The queue is
//! therefore a sorted map of FIFO buckets rather than a binary heap: an
//! election storm puts thousands of deliveries on a handful of instants, and
//! a bucket push or pop is O(1) once the bucket is found.

use super::engine::Packet;
use crate::time::Time;
use crate::timer::TimerKind;
use std::collections::{BTreeMap, VecDeque};

/// The order of event classes at one instant: faults, then deliveries, then
/// timers (SPEC §6). A `DeclareMaster` landing on the very microsecond a
/// receiver's own election timer expires is therefore accepted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Fault = 0,
    Delivery = 1,
    Timer = 2,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Apply `scenario.faults[i]`.
    Fault(usize),
    /// A message copy reaches row `to`.
    Deliver { id: u64, from: u32, to: u32, packet: Packet },
    /// A timer of row `row` comes due; stale if re-armed or cancelled since.
    Timer { row: u32, timer: TimerKind },
    /// Something of the replicated service (`service.rs`).
    #[cfg_attr(not(feature = "service"), allow(dead_code))]
    Service(Box<super::service::Event>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: Time,
    pub class: Class,
    pub seq: u64,
    pub kind: EventKind,
}

#[derive(Default, Debug)]
pub struct Queue {
    buckets: BTreeMap<(Time, Class), VecDeque<(u64, EventKind)>>,
    len: usize,
}

impl Queue {
    pub fn push(&mut self, time: Time, class: Class, seq: u64, kind: EventKind) {
        let bucket = self.buckets.entry((time, class)).or_default();
        debug_assert!(bucket.back().is_none_or(|(s, _)| *s < seq), "seq must grow within a bucket");
        bucket.push_back((seq, kind));
        self.len += 1;
    }

    /// The time and class of the next event.
    pub fn peek_key(&self) -> Option<(Time, Class)> {
        self.buckets.keys().next().copied()
    }

    pub fn pop(&mut self) -> Option<Event> {
        let mut entry = self.buckets.first_entry()?;
        let (time, class) = *entry.key();
        let (seq, kind) = entry.get_mut().pop_front().expect("buckets are never left empty");
        if entry.get().is_empty() {
            entry.remove();
        }
        self.len -= 1;
        Some(Event { time, class, seq, kind })
    }

    /// Events still queued, stale timers included.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_class_then_seq() {
        let mut q = Queue::default();
        q.push(Time(5), Class::Timer, 1, EventKind::Fault(0));
        q.push(Time(5), Class::Delivery, 2, EventKind::Fault(1));
        q.push(Time(3), Class::Timer, 3, EventKind::Fault(2));
        q.push(Time(5), Class::Fault, 4, EventKind::Fault(3));
        q.push(Time(5), Class::Delivery, 5, EventKind::Fault(4));
        let order: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|e| e.seq).collect();
        assert_eq!(order, vec![3, 4, 2, 5, 1]);
    }
}
