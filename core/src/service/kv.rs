//! The state machine: the keys and values, and the client table that makes
//! a retried request apply once (K13).

use super::{Answer, ClientRecord, Entry, Limits, Op, Refusal, Reply, Request, Snapshot, Stamp};

/// The replicated state after applying every entry up to `last`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Store {
    snapshot: Snapshot,
}

/// How a request stands against the client table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A new request: carry it out.
    New,
    /// The client's last request again: here is its reply.
    Repeat(Reply),
}

impl Store {
    pub fn from_snapshot(snapshot: Snapshot) -> Store {
        Store { snapshot }
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub fn last(&self) -> Stamp {
        self.snapshot.last
    }

    pub fn len(&self) -> usize {
        self.snapshot.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.snapshot.data.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.snapshot.data.get(key)
    }

    /// Where `request` stands: new, a repeat of the client's last write, or
    /// a sequence number that went backwards. A `get` is never in the table
    /// (it is not logged), so it only has to be no older than the last write.
    pub fn seen(&self, request: &Request) -> Result<Seen, Refusal> {
        let Some(record) = self.snapshot.clients.get(&request.client) else {
            return Ok(Seen::New);
        };
        if request.seq > record.seq {
            return Ok(Seen::New);
        }
        if request.seq == record.seq && request.op.writes() {
            return Ok(Seen::Repeat(record.reply.clone()));
        }
        Err(Refusal::SequenceWentBack { client: request.client.clone(), seq: request.seq, last: record.seq })
    }

    /// Answers a `get` from the state as it is.
    pub fn read(&self, key: &str, epoch: u64) -> Reply {
        let value = self.snapshot.data.get(key).cloned();
        Reply { epoch, index: self.snapshot.last.index, answer: Answer::Value { value } }
    }

    /// Applies the next entry and returns its reply. An entry whose client
    /// already has this or a later sequence number in the table is a
    /// duplicate that reached the log twice: it changes nothing and gets
    /// the table's reply (K13).
    pub fn apply(&mut self, entry: &Entry) -> Reply {
        debug_assert!(entry.stamp.index == self.snapshot.last.index + 1, "entries are applied in order");
        self.snapshot.last = entry.stamp;
        if let Some(record) = self.snapshot.clients.get(&entry.client) {
            if record.seq >= entry.seq {
                return record.reply.clone();
            }
        }
        let data = &mut self.snapshot.data;
        let answer = match &entry.op {
            Op::Get { key } => Answer::Value { value: data.get(key).cloned() },
            Op::Put { key, value } => Answer::Written { previous: data.insert(key.clone(), value.clone()) },
            Op::Delete { key } => Answer::Written { previous: data.remove(key) },
            Op::Cas { key, expected, new } => {
                let ok = data.get(key) == expected.as_ref();
                if ok {
                    match new {
                        Some(v) => data.insert(key.clone(), v.clone()),
                        None => data.remove(key),
                    };
                }
                Answer::Swapped { ok, current: data.get(key).cloned() }
            }
        };
        let reply = Reply { epoch: entry.stamp.epoch, index: entry.stamp.index, answer };
        self.snapshot.clients.insert(entry.client.clone(), ClientRecord { seq: entry.seq, reply: reply.clone() });
        reply
    }
}

/// Checks a request against the documented limits (K16).
pub fn check(request: &Request, limits: &Limits) -> Result<(), Refusal> {
    let bad = |field: &str, reason: String| Err(Refusal::BadRequest { field: field.into(), reason });
    let c = &request.client;
    if c.is_empty() || c.len() > limits.max_client || c.chars().any(char::is_control) {
        return bad("client", format!("1 to {} bytes without control characters", limits.max_client));
    }
    if request.seq == 0 {
        return bad("seq", "sequence numbers start at 1".into());
    }
    let key = request.op.key();
    if key.is_empty() || key.len() > limits.max_key {
        return bad("key", format!("1 to {} bytes (this one has {})", limits.max_key, key.len()));
    }
    let values: [Option<&String>; 2] = match &request.op {
        Op::Put { value, .. } => [Some(value), None],
        Op::Cas { expected, new, .. } => [expected.as_ref(), new.as_ref()],
        _ => [None, None],
    };
    for v in values.into_iter().flatten() {
        if v.len() > limits.max_value {
            return bad("value", format!("at most {} bytes (this one has {})", limits.max_value, v.len()));
        }
    }
    Ok(())
}

/// The entries of `log` after `index`, at most `max`.
pub fn after(log: &[Entry], index: u64, max: usize) -> Vec<Entry> {
    let start = log.partition_point(|e| e.stamp.index <= index);
    log[start..log.len().min(start.saturating_add(max))].to_vec()
}
