//! Linearizability of one key's operations against a register: the
//! Wing–Gong search with Lowe's memoization, as Porcupine does it.
//!
//! Why not `stateright`'s `LinearizabilityTester`: its search
//! (`serialize`) walks the interleavings depth first with no memory of the
//! states it has seen, cloning its maps at each step, so its cost grows
//! steeply with the operations per key; it answers only yes or no, with no
//! counterexample to print; and an operation without an answer can only be
//! its thread's last, open for ever, so the bound of KC3 (an unknown write
//! cannot take effect after its client's next acknowledged write) cannot be
//! said. This search remembers each (set of operations linearized, register
//! value) it has tried, so it visits each at most once; and it keeps the
//! longest linearization it found, which is the counterexample. Measured in
//! the test build on one key of a generated history from 8 clients with one
//! read made stale: at 105 operations stateright took 0.3 s either way, at
//! 334 it took 2.3 s to accept the good history and 21 s to reject the bad
//! one; this search took 4 ms and 13 ms for all the keys of those histories
//! (10 and 3 keys). The unit tests run both on small random
//! histories and require the same verdicts
//! (`agrees_with_stateright_on_small_random_histories`).
//!
//! Operations whose outcome is unknown may or may not have taken effect:
//! each is *optional*. It may be placed anywhere between its invocation and
//! its deadline (see [`Op::until`]), or skipped when the search reaches its
//! deadline without having placed it.

use std::collections::HashSet;

/// A value, interned: the register holds `Option<Value>`.
pub type Value = u32;

/// What an operation does to the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Get,
    Put(Value),
    Delete,
    Cas { expected: Option<Value>, new: Option<Value> },
}

/// What it returned; `None` for an operation with no answer (unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    Value(Option<Value>),
    Written { previous: Option<Value> },
    Swapped { ok: bool, current: Option<Value> },
}

/// One operation on the key.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub call: Call,
    /// `None`: no answer came; the operation is optional.
    pub ret: Option<Ret>,
    pub invoke: f64,
    /// When it must have taken effect by: its completion for an answered
    /// one; for an unknown one, the latest instant it could still take
    /// effect (infinity if nothing bounds it).
    pub until: f64,
}

/// Applies `call` to `state`: the new state and what the register answers.
pub fn apply(state: Option<Value>, call: Call) -> (Option<Value>, Ret) {
    match call {
        Call::Get => (state, Ret::Value(state)),
        Call::Put(v) => (Some(v), Ret::Written { previous: state }),
        Call::Delete => (None, Ret::Written { previous: state }),
        Call::Cas { expected, new } if state == expected => (new, Ret::Swapped { ok: true, current: new }),
        Call::Cas { .. } => (state, Ret::Swapped { ok: false, current: state }),
    }
}

/// How the search ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A linearization: indexes into the operations in order (skipped
    /// unknowns are left out).
    Linearizable(Vec<usize>),
    /// None exists. `placed`: the longest linearization found (indexes, and
    /// `true` where an unknown was skipped), `state` the value after it,
    /// `stuck` the operations that could come next and none of which fits.
    NotLinearizable { placed: Vec<(usize, bool)>, state: Option<Value>, stuck: Vec<usize> },
    /// The search gave up after `steps` steps.
    Undecided { steps: u64 },
}

/// The doubly linked list of call and return entries, sorted by time.
struct List {
    /// entry → (op, is_call)
    entries: Vec<(usize, bool)>,
    next: Vec<usize>,
    prev: Vec<usize>,
    /// op → (its call entry, its return entry)
    of: Vec<(usize, usize)>,
}

const NONE: usize = usize::MAX;

impl List {
    fn new(ops: &[Op]) -> List {
        let mut entries: Vec<(usize, bool)> = (0..ops.len()).flat_map(|i| [(i, true), (i, false)]).collect();
        let time = |&(i, call): &(usize, bool)| if call { ops[i].invoke } else { ops[i].until };
        // At equal times calls come first: operations that touch at one
        // instant are concurrent, not ordered.
        entries.sort_by(|a, b| time(a).total_cmp(&time(b)).then(b.1.cmp(&a.1)));
        let n = entries.len();
        // Entry n is the head sentinel.
        let next = (0..=n)
            .map(|e| {
                if e == n {
                    if n == 0 {
                        NONE
                    } else {
                        0
                    }
                } else if e + 1 < n {
                    e + 1
                } else {
                    NONE
                }
            })
            .collect();
        let prev = (0..=n)
            .map(|e| {
                if e == 0 {
                    n
                } else if e == n {
                    NONE
                } else {
                    e - 1
                }
            })
            .collect();
        let mut of = vec![(0, 0); ops.len()];
        for (e, &(i, call)) in entries.iter().enumerate() {
            if call {
                of[i].0 = e;
            } else {
                of[i].1 = e;
            }
        }
        List { entries, next, prev, of }
    }

    fn head(&self) -> usize {
        self.entries.len()
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        if n != NONE {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        if n != NONE {
            self.prev[n] = e;
        }
    }

    fn lift(&mut self, op: usize) {
        let (c, r) = self.of[op];
        self.unlink(c);
        self.unlink(r);
    }

    fn unlift(&mut self, op: usize) {
        let (c, r) = self.of[op];
        self.relink(r);
        self.relink(c);
    }
}

/// A decision on the stack: the operation, the state before it, and
/// whether it was skipped (an unknown that did not take effect).
struct Frame {
    op: usize,
    before: Option<Value>,
    skipped: bool,
}

/// Whether `ops` (one key's) are linearizable from an absent key, within
/// `budget` steps.
pub fn search(ops: &[Op], budget: u64) -> Outcome {
    let mut list = List::new(ops);
    let words = ops.len().div_ceil(64);
    let mut done = vec![0u64; words];
    let mut seen: HashSet<(Vec<u64>, Option<Value>)> = HashSet::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut state: Option<Value> = None;
    let mut best: (Vec<(usize, bool)>, Option<Value>) = (Vec::new(), None);
    let mut steps = 0u64;
    let mut cursor = list.next[list.head()];
    let set = |done: &mut Vec<u64>, i: usize, on: bool| {
        if on {
            done[i / 64] |= 1 << (i % 64)
        } else {
            done[i / 64] &= !(1 << (i % 64))
        }
    };
    while cursor != NONE {
        steps += 1;
        if steps > budget {
            return Outcome::Undecided { steps };
        }
        let (i, is_call) = list.entries[cursor];
        // Place the operation here (take its effect now), or, at an
        // unknown one's deadline, skip it.
        let placed = if is_call {
            let (after, ret) = apply(state, ops[i].call);
            (ops[i].ret.is_none_or(|r| r == ret)).then_some((after, false))
        } else {
            ops[i].ret.is_none().then_some((state, true))
        };
        if let Some((after, skipped)) = placed {
            set(&mut done, i, true);
            if seen.insert((done.clone(), after)) {
                stack.push(Frame { op: i, before: state, skipped });
                state = after;
                list.lift(i);
                if stack.len() > best.0.len() {
                    best = (stack.iter().map(|f| (f.op, f.skipped)).collect(), state);
                }
                cursor = list.next[list.head()];
                continue;
            }
            set(&mut done, i, false);
        }
        if is_call {
            cursor = list.next[cursor];
            continue;
        }
        // An answered operation's return with no place for it: undo the
        // last placement and try the next candidate after it. A skip was
        // the only choice left at its deadline, so it is undone too.
        loop {
            let Some(f) = stack.pop() else {
                return not_linearizable(ops, best);
            };
            set(&mut done, f.op, false);
            state = f.before;
            list.unlift(f.op);
            if !f.skipped {
                cursor = list.next[list.of[f.op].0];
                break;
            }
        }
    }
    let order = stack.iter().filter(|f| !f.skipped).map(|f| f.op).collect();
    Outcome::Linearizable(order)
}

/// The counterexample: the longest linearization found, and the operations
/// that could come after it (invoked before the earliest deadline among
/// the rest), none of which fits.
fn not_linearizable(ops: &[Op], (placed, state): (Vec<(usize, bool)>, Option<Value>)) -> Outcome {
    let done: HashSet<usize> = placed.iter().map(|p| p.0).collect();
    let rest: Vec<usize> = (0..ops.len()).filter(|i| !done.contains(i)).collect();
    let deadline = rest.iter().filter(|&&i| ops[i].ret.is_some()).map(|&i| ops[i].until).fold(f64::INFINITY, f64::min);
    let stuck = rest.into_iter().filter(|&i| ops[i].invoke <= deadline).collect();
    Outcome::NotLinearizable { placed, state, stuck }
}
