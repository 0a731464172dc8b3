//! One client of the replicated service: an id, rising sequence numbers,
//! the master found through the name server, and retries that resend the
//! same sequence number so that the service's client table applies a
//! request once (docs/protocol.md KC1–KC3).

use crate::cli::root_cause;
use crate::names::{NameStore, Remote, StoreError};
use serde_json::Value;
use stagger_core::service::{HistoryEvent as Event, Op, Outcome, Reply, Request};
use stagger_core::Rng;
use std::time::{Duration, Instant};

/// How hard a client tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How long one operation may take, retries included, before it ends
    /// `fail` (nothing can have been applied) or `unknown`.
    pub deadline: Duration,
    /// How long one attempt waits for its answer. Above the 5 s after which
    /// a master answers a waiting request `unknown`, so that answer is heard.
    pub attempt_timeout: Duration,
    /// The first pause between attempts; it doubles up to `backoff_max`,
    /// and each pause is drawn between half of it and all of it (jitter, so
    /// that clients refused together do not come back together).
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            deadline: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(6),
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_secs(1),
        }
    }
}

/// The master as the client last learned it: from the name server (with
/// its epoch) or from a backup's redirect (without).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Master {
    pub id: Option<String>,
    pub addr: String,
    pub epoch: Option<u64>,
}

/// Why an operation did not succeed, and whose fault it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The service refused the request (bad input, an unknown group, a
    /// sequence number that went back): the caller's fault. Not applied.
    #[error("refused: {0}")]
    Refused(String),
    /// No master took the request before the deadline (the name server or
    /// the master could not be reached, or only backups answered). Not
    /// applied.
    #[error("not applied: {0}")]
    Unreachable(String),
    /// A request may have reached a master but no answer came before the
    /// deadline: it may or may not have been applied, at most once.
    #[error("no answer, so it may or may not have been applied: {0}")]
    Unknown(String),
}

/// What one attempt came to.
enum Attempt {
    Done(Reply),
    /// Refused for good: retrying cannot help.
    Refused(String),
    /// Try again. `reached`: the request may have been applied.
    Retry {
        reached: bool,
        why: String,
        redirect: Option<Master>,
    },
}

/// Why the master could not be found.
enum Lookup {
    Refused(String),
    Retry(String),
}

/// A client of one group's service.
pub struct Client {
    id: String,
    seq: u64,
    group: String,
    names: Remote,
    nameserver: String,
    http: reqwest::Client,
    master: Option<Master>,
    settings: Settings,
    rng: Rng,
    start: Instant,
}

impl Client {
    /// A client `id` of group `group` whose name server is at `nameserver`
    /// (`http://HOST:PORT`). Its events' times count from `start`; `seed`
    /// draws its jitter. The id must be new to the group (or the last
    /// sequence number it used must be known, see [`Client::resume`]):
    /// the service refuses a sequence number that went back.
    pub fn new(id: &str, nameserver: &str, group: &str, start: Instant, seed: u64, settings: Settings) -> Client {
        let http = reqwest::Client::builder().timeout(settings.attempt_timeout).build().expect("an HTTP client without TLS builds");
        Client {
            id: id.to_owned(),
            seq: 0,
            group: group.to_owned(),
            names: Remote::new(nameserver),
            nameserver: nameserver.trim_end_matches('/').to_owned(),
            http,
            master: None,
            settings,
            rng: Rng::new(seed),
            start,
        }
    }

    /// Continues after sequence number `seq`.
    pub fn resume(mut self, seq: u64) -> Client {
        self.seq = seq;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The master the next attempt goes to, if known.
    pub fn master(&self) -> Option<&Master> {
        self.master.as_ref()
    }

    /// Carries out `op` under the next sequence number and records it.
    pub async fn run(&mut self, op: Op) -> Event {
        self.call(op).await.0
    }

    /// Carries out `op`: its event for the history, and its reply or why
    /// there is none. Retries (the same sequence number) until the
    /// deadline; an `unknown` operation's sequence number is not used again
    /// (KC2).
    pub async fn call(&mut self, op: Op) -> (Event, Result<Reply, KvError>) {
        self.seq += 1;
        let request = Request { client: self.id.clone(), seq: self.seq, op };
        let invoked = self.start.elapsed();
        let deadline = Instant::now() + self.settings.deadline;
        let mut backoff = self.settings.backoff_min;
        let (mut attempts, mut reached) = (0u32, false);
        let mut why = String::from("the deadline passed before any attempt");
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(if reached { KvError::Unknown(why) } else { KvError::Unreachable(why) });
            }
            let mut pause = true;
            match self.find_master(left).await {
                Err(Lookup::Refused(e)) => break Err(KvError::Refused(e)),
                Err(Lookup::Retry(e)) => why = e,
                Ok(master) => {
                    attempts += 1;
                    match self.attempt(&master, &request, left).await {
                        Attempt::Done(reply) => break Ok(reply),
                        Attempt::Refused(e) => break Err(KvError::Refused(e)),
                        Attempt::Retry { reached: r, why: w, redirect } => {
                            reached |= r;
                            why = w;
                            // A redirect to a new address is followed at once.
                            pause = redirect.is_none() || redirect.as_ref() == Some(&master);
                            self.master = redirect;
                        }
                    }
                }
            }
            if pause {
                let left = deadline.saturating_duration_since(Instant::now());
                let half = backoff.as_micros() as u64 / 2;
                let jittered = Duration::from_micros(half + self.rng.below(half + 1));
                tokio::time::sleep(jittered.min(left)).await;
                backoff = (backoff * 2).min(self.settings.backoff_max);
            }
        };
        let completed = self.start.elapsed();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (outcome, error) = match &result {
            Ok(_) => (Outcome::Ok, None),
            Err(KvError::Unknown(_)) => (Outcome::Unknown, result.as_ref().err().map(|e| e.to_string())),
            Err(e) => (Outcome::Fail, Some(e.to_string())),
        };
        let reply = result.as_ref().ok();
        let event = Event {
            client: request.client,
            seq: request.seq,
            op: request.op,
            invoke_ms: ms(invoked),
            complete_ms: ms(completed),
            outcome,
            answer: reply.map(|r| r.answer.clone()),
            epoch: reply.map(|r| r.epoch),
            index: reply.map(|r| r.index),
            error,
            attempts,
        };
        if let Ok(r) = &result {
            if let Some(m) = self.master.as_mut() {
                m.epoch = Some(r.epoch);
            }
        }
        (event, result)
    }

    /// The cached master, or the name server's answer.
    async fn find_master(&mut self, left: Duration) -> Result<Master, Lookup> {
        if let Some(m) = &self.master {
            return Ok(m.clone());
        }
        let view = match tokio::time::timeout(left, self.names.lookup(&self.group)).await {
            Err(_) => return Err(Lookup::Retry(format!("the name server at {} did not answer in time", self.nameserver))),
            // An unknown group: the caller's to fix.
            Ok(Err(e @ StoreError::Refused(_))) => return Err(Lookup::Refused(format!("{}: {e}", self.nameserver))),
            Ok(Err(e)) => return Err(Lookup::Retry(e.to_string())),
            Ok(Ok(view)) => view,
        };
        let m = view.master.ok_or_else(|| Lookup::Retry(format!("group {} has no master at the name server now", self.group)))?;
        let master = Master { id: Some(m.member), addr: m.addr, epoch: Some(m.epoch) };
        self.master = Some(master.clone());
        Ok(master)
    }

    /// One request to `master`, classified (KC2).
    async fn attempt(&self, master: &Master, request: &Request, left: Duration) -> Attempt {
        let url = format!("http://{}/api/kv?group={}", master.addr, self.group);
        let at = |what: String| format!("{} at {}: {what}", master.id.as_deref().unwrap_or("the master"), master.addr);
        let sent = self.http.post(&url).json(request).timeout(left.min(self.settings.attempt_timeout)).send().await;
        let response = match sent {
            // Not connected: the request never left.
            Err(e) if e.is_connect() => return Attempt::Retry { reached: false, why: at(root_cause(&e)), redirect: None },
            Err(e) => return Attempt::Retry { reached: true, why: at(format!("no answer: {}", root_cause(&e))), redirect: None },
            Ok(r) => r,
        };
        let status = response.status();
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => return Attempt::Retry { reached: true, why: at(format!("answer cut off: {}", root_cause(&e))), redirect: None },
        };
        if status.is_success() {
            return match serde_json::from_str(&text) {
                Ok(reply) => Attempt::Done(reply),
                Err(e) => {
                    Attempt::Retry { reached: true, why: at(format!("{status} with an unreadable reply ({e}): {text}")), redirect: None }
                }
            };
        }
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let error = body["error"].as_str().unwrap_or_default();
        let said = at(format!("{status}: {}", if body.is_null() { text.clone() } else { body.to_string() }));
        match (status.as_u16(), error) {
            (_, "not_master") => {
                let redirect = body["addr"].as_str().map(|addr| Master {
                    id: body["master"].as_str().map(str::to_owned),
                    addr: addr.to_owned(),
                    epoch: None,
                });
                Attempt::Retry { reached: false, why: said, redirect }
            }
            // Refused before anything was applied, at the same master.
            (_, "busy") => Attempt::Retry { reached: false, why: said, redirect: Some(master.clone()) },
            (_, "unknown") => Attempt::Retry { reached: true, why: said, redirect: None },
            // A group run without a name server has no master for clients.
            (400..=499, _) | (_, "no_name_server") => Attempt::Refused(said),
            // Any other answer (a proxy, a crash mid-answer): it may have been
            // applied, and the master may have changed.
            _ => Attempt::Retry { reached: true, why: said, redirect: None },
        }
    }
}
