//! The simulated service's clients (docs/protocol.md KS5): each writes
//! `c<n>-<seq>` to a random key, one write at a time, through the master
//! it learned from the name server or a redirect, and retries with the
//! same sequence number until the write is answered. Every operation
//! becomes a [`HistoryEvent`].

use super::flow::{Answered, Flow};
use super::queue::Class;
use super::service::{Call, Event, Group};
use super::{Sim, What};
use crate::scenario::Scenario;
use crate::service::{HistoryEvent, Op, Outcome, Refusal, Reply, Request};
use crate::time::Time;
use std::borrow::Borrow;

pub(super) struct Client {
    pub(super) seq: u64,
    /// Bumped on every try, so a late answer to an earlier one is ignored.
    pub(super) attempt: u32,
    /// The master as last learned: from the name server or a redirect.
    pub(super) master: Option<u32>,
    pub(super) op: Option<Pending>,
}

pub(super) struct Pending {
    pub(super) seq: u64,
    op: Op,
    invoke: Time,
    tries: u32,
}

pub(super) fn event(client: u32, p: Pending, at: Time, outcome: Outcome, reply: Option<Reply>, error: Option<String>) -> HistoryEvent {
    HistoryEvent {
        client: format!("c{}", client + 1),
        seq: p.seq,
        op: p.op,
        invoke_ms: p.invoke.as_ms(),
        complete_ms: at.as_ms(),
        outcome,
        epoch: reply.as_ref().map(|r| r.epoch),
        index: reply.as_ref().map(|r| r.index),
        answer: reply.map(|r| r.answer),
        error,
        attempts: p.tries,
    }
}

pub(super) fn answered(result: &Result<Reply, Refusal>) -> Answered {
    match result {
        Ok(_) => Answered::Ok,
        Err(Refusal::NotMaster { .. }) => Answered::NotMaster,
        Err(Refusal::Unknown) => Answered::Unknown,
        Err(Refusal::Busy { .. }) => Answered::Busy,
        Err(_) => Answered::Refused,
    }
}

impl<S: Borrow<Scenario>> Sim<S> {
    /// A client's event: a step of its own, or an answer reaching it.
    pub(super) fn svc_client(&mut self, g: &mut Group, ev: Event) {
        let now = self.now;
        match ev {
            Event::Answer { client, attempt, row, result } => {
                g.events += 1;
                self.svc_answer(g, client, attempt, row, result);
            }
            Event::Refused { client, attempt } => {
                if g.clients[client as usize].attempt == attempt {
                    g.clients[client as usize].master = None;
                    self.svc_retry_later(g, client);
                }
            }
            Event::Issue { client } => {
                g.events += 1;
                let c = &mut g.clients[client as usize];
                if c.op.is_none() {
                    c.seq += 1;
                    let key = format!("k{}", g.rng.below(g.load.keys as u64));
                    let value = format!("c{}-{}", client + 1, c.seq);
                    c.op = Some(Pending { seq: c.seq, op: Op::Put { key, value }, invoke: now, tries: 0 });
                }
                self.svc_try(g, client);
            }
            Event::Expire { client, attempt } => {
                let c = &mut g.clients[client as usize];
                if c.attempt == attempt && c.op.is_some() {
                    c.master = None;
                    self.svc_try(g, client);
                }
            }
            Event::Found { client, attempt, master } => {
                let c = &mut g.clients[client as usize];
                if c.attempt != attempt || c.op.is_none() {
                    return;
                }
                c.master = master;
                match master {
                    Some(row) => self.svc_send(g, client, row),
                    None => self.svc_retry_later(g, client),
                }
            }
            _ => unreachable!("only a client's events come here"),
        }
    }

    /// A client tries its current operation: at the master it knows, or
    /// after asking the name server.
    fn svc_try(&mut self, g: &mut Group, client: u32) {
        let c = &mut g.clients[client as usize];
        c.attempt += 1;
        let attempt = c.attempt;
        match c.master {
            Some(row) => self.svc_send(g, client, row),
            None => {
                let at = self.now + g.load.client_delay;
                self.svc_push(at, Class::Delivery, Event::Names(Call::Lookup { client, attempt }));
            }
        }
    }

    fn svc_send(&mut self, g: &mut Group, client: u32, row: u32) {
        let now = self.now;
        let c = &mut g.clients[client as usize];
        let Some(p) = c.op.as_mut() else { return };
        p.tries += 1;
        let attempt = c.attempt;
        let request = Request { client: format!("c{}", client + 1), seq: p.seq, op: p.op.clone() };
        let arrive = now + g.load.client_delay;
        self.record(What::Service(Flow::Request { client, server: row, seq: p.seq, arrive }));
        self.svc_push(arrive, Class::Delivery, Event::Arrive { client, attempt, row, request });
        self.svc_push(now + g.load.client_timeout, Class::Timer, Event::Expire { client, attempt });
    }

    /// Tries again after a pause of `write_every_ms`, asking the name
    /// server first.
    fn svc_retry_later(&mut self, g: &mut Group, client: u32) {
        // A newer attempt number makes answers to the old one stale.
        g.clients[client as usize].attempt += 1;
        let at = self.now + g.load.write_every;
        self.svc_push(at, Class::Timer, Event::Issue { client });
    }

    fn svc_answer(&mut self, g: &mut Group, client: u32, attempt: u32, row: u32, result: Result<Reply, Refusal>) {
        let now = self.now;
        let c = &mut g.clients[client as usize];
        if c.attempt != attempt || c.op.is_none() {
            return;
        }
        let (outcome, reply, error) = match result {
            Ok(reply) => (Outcome::Ok, Some(reply), None),
            Err(Refusal::NotMaster { master }) => {
                let hint = master.and_then(|m| g.rows.get(&m).copied()).filter(|h| *h != row);
                c.master = hint;
                match hint {
                    Some(_) => self.svc_try(g, client),
                    None => self.svc_retry_later(g, client),
                }
                return;
            }
            Err(r) if r.retry() => {
                c.master = None;
                self.svc_retry_later(g, client);
                return;
            }
            Err(r) => (Outcome::Fail, None, Some(r.to_string())),
        };
        let p = c.op.take().expect("checked");
        g.done.push(event(client, p, now, outcome, reply, error));
        let at = now + g.load.write_every;
        self.svc_push(at, Class::Timer, Event::Issue { client });
    }
}
