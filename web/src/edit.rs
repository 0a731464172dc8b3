//! Structural edits of a scenario file: the ones that must keep several
//! fields consistent (adding a server grows the matrix, renaming one renames
//! it in the ranking and the faults). Pure functions, so the wasm unit tests
//! and native tests check them directly.
//!
//! An edit can leave the file invalid (a negative delay, say); that is for
//! validation to report at the field. An `Err` here means the edit itself
//! could not be made, such as a CSV paste that is not a matrix.

mod faults;
mod settings;

pub use faults::{describe, new_fault};

use stagger_core::scenario::{AlgorithmName, FaultEntry, Periods, SchemeName, ServerEntry};
use stagger_core::{gen, Rng, ScenarioFile};

#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    AddServer,
    RemoveServer(usize),
    RenameServer {
        row: usize,
        id: String,
    },
    /// Set (or with `None` remove) a numeric attribute.
    SetAttr {
        row: usize,
        key: String,
        value: Option<f64>,
    },
    /// Give every server a new attribute, at 0 where it lacks it.
    AddAttr(String),
    /// Remove an attribute from every server. Ranking by it first switches
    /// to an explicit ranking in the current order, so the order survives.
    RemoveAttr(String),
    /// Move the server at rank `from` to rank `to`.
    MoveRank {
        from: usize,
        to: usize,
    },
    /// Rank by an attribute (`Some`) or switch back to an explicit ranking
    /// in the current order (`None`).
    RankBy(Option<String>),
    /// Rebuild an invalid explicit ranking: each known id once, in its
    /// current order, then the servers it omits, in `servers` order.
    RepairRanking,
    /// Set `delays_ms[j][k]`, and `[k][j]` too when editing symmetrically.
    SetDelay {
        j: usize,
        k: usize,
        ms: f64,
    },
    /// Make the matrix symmetric by copying the upper triangle down.
    Symmetrize,
    /// A seeded random matrix with one-way delays in `[lo, hi]` ms.
    Randomize {
        seed: u64,
        lo: u64,
        hi: u64,
    },
    /// Replace the matrix with pasted CSV (commas, semicolons, tabs or
    /// spaces between numbers; one row per line).
    PasteCsv(String),
    /// Switch the timer scheme, dropping the parameters the new scheme does
    /// not use (validation refuses them) and filling those it needs.
    SetScheme(SchemeName),
    /// One detection period for all servers (`false`) or one per server.
    PerServerPeriods(bool),
    /// Choose the election algorithm. The `raft` and `bully` blocks and the
    /// staggered timer's settings are all kept, so switching back restores
    /// them; the functional table, which Raft and Bully refuse, is dropped
    /// when leaving the staggered timer.
    SetAlgorithm(AlgorithmName),
    /// Insert a fault; the list stays in the order faults apply.
    AddFault(FaultEntry),
    /// Replace fault `index`; the list stays in the order faults apply.
    SetFault {
        index: usize,
        fault: FaultEntry,
    },
    RemoveFault(usize),
}

/// Applies `e` to `file`.
pub fn apply(file: &mut ScenarioFile, e: Edit, symmetric: bool) -> Result<(), String> {
    match e {
        Edit::AddServer => add_server(file),
        Edit::RemoveServer(row) => remove_server(file, row)?,
        Edit::RenameServer { row, id } => rename(file, row, id)?,
        Edit::SetAttr { row, key, value } => {
            let s = file.servers.get_mut(row).ok_or("no such server")?;
            match value {
                Some(v) => s.attrs.insert(key, v),
                None => s.attrs.remove(&key),
            };
        }
        Edit::AddAttr(key) => settings::add_attr(file, key)?,
        Edit::RemoveAttr(key) => settings::remove_attr(file, &key),
        Edit::RepairRanking => settings::repair_ranking(file),
        Edit::SetScheme(scheme) => settings::set_scheme(file, scheme),
        Edit::PerServerPeriods(on) => settings::per_server_periods(file, on),
        Edit::SetAlgorithm(a) => settings::set_algorithm(file, a),
        Edit::AddFault(f) => faults::add(file, f),
        Edit::SetFault { index, fault } => faults::set(file, index, fault)?,
        Edit::RemoveFault(index) => faults::remove(file, index)?,
        Edit::MoveRank { from, to } => {
            let mut order = ranking(file);
            if from >= order.len() || to >= order.len() {
                return Err("no such rank".into());
            }
            let id = order.remove(from);
            order.insert(to, id);
            file.ranking = Some(order);
            file.rank_by = None;
        }
        Edit::RankBy(Some(attr)) => {
            file.rank_by = Some(attr);
            file.ranking = None;
        }
        Edit::RankBy(None) => {
            file.ranking = Some(ranking(file));
            file.rank_by = None;
        }
        Edit::SetDelay { j, k, ms } => {
            let n = file.delays_ms.len();
            if j >= n || k >= n || file.delays_ms[j].len() <= k {
                return Err("no such cell".into());
            }
            file.delays_ms[j][k] = ms;
            if symmetric && file.delays_ms[k].len() > j {
                file.delays_ms[k][j] = ms;
            }
        }
        Edit::Symmetrize => {
            let n = file.delays_ms.len();
            for j in 0..n {
                for k in 0..j {
                    if file.delays_ms[j].len() > k && file.delays_ms[k].len() > j {
                        file.delays_ms[j][k] = file.delays_ms[k][j];
                    }
                }
            }
        }
        Edit::Randomize { seed, lo, hi } => {
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            let mut rng = Rng::new(seed);
            file.delays_ms = gen::random_matrix(file.servers.len(), lo, hi, symmetric, &mut rng);
        }
        Edit::PasteCsv(text) => file.delays_ms = parse_csv(&text, file.servers.len())?,
    }
    Ok(())
}

/// The current ranking as ids, whether explicit or by criterion (falling
/// back to file order when the criterion cannot be applied).
pub fn ranking(file: &ScenarioFile) -> Vec<String> {
    if let Some(r) = &file.ranking {
        return r.clone();
    }
    match file.validate() {
        Ok(s) => s.ranking.iter().map(|r| s.ids[*r as usize].clone()).collect(),
        Err(_) => file.servers.iter().map(|s| s.id.clone()).collect(),
    }
}

fn add_server(file: &mut ScenarioFile) {
    let taken = |id: &str| file.servers.iter().any(|s| s.id == id);
    let id = (file.servers.len()..).map(|i| format!("server-{i}")).find(|id| !taken(id)).expect("ids are unbounded");
    // A new server is as far from everyone as the farthest pair so far.
    let far = file.delays_ms.iter().flatten().copied().fold(0.0, f64::max).max(1.0);
    for row in &mut file.delays_ms {
        row.push(far);
    }
    let n = file.servers.len() + 1;
    file.delays_ms.push((0..n).map(|k| if k + 1 == n { 0.0 } else { far }).collect());
    if let Some(r) = &mut file.ranking {
        r.push(id.clone());
    }
    if let Some(d) = &mut file.detection {
        if let Some(Periods::PerServer(list)) = &mut d.period_ms {
            let last = list.last().copied().unwrap_or(500.0);
            list.push(last);
        }
    }
    let attrs = file.servers.first().map(|s| s.attrs.keys().map(|k| (k.clone(), 0.0)).collect()).unwrap_or_default();
    file.servers.push(ServerEntry { id, attrs });
}

fn remove_server(file: &mut ScenarioFile, row: usize) -> Result<(), String> {
    if row >= file.servers.len() {
        return Err("no such server".into());
    }
    if file.servers.len() <= 2 {
        return Err("a group needs at least two servers".into());
    }
    let id = file.servers.remove(row).id;
    if row < file.delays_ms.len() {
        file.delays_ms.remove(row);
    }
    for r in &mut file.delays_ms {
        if row < r.len() {
            r.remove(row);
        }
    }
    if let Some(r) = &mut file.ranking {
        r.retain(|x| *x != id);
    }
    if let Some(d) = &mut file.detection {
        if let Some(Periods::PerServer(list)) = &mut d.period_ms {
            if row < list.len() {
                list.remove(row);
            }
        }
    }
    faults::forget_server(file, &id);
    Ok(())
}

fn rename(file: &mut ScenarioFile, row: usize, id: String) -> Result<(), String> {
    let old = file.servers.get(row).ok_or("no such server")?.id.clone();
    // Renaming onto another server's id would merge the two servers'
    // references (ranking, faults) beyond repair, so it is refused.
    if file.servers.iter().enumerate().any(|(r, s)| r != row && s.id == id) {
        return Err(format!("'{id}' is already the id of another server"));
    }
    let swap = |x: &mut String| {
        if *x == old {
            *x = id.clone();
        }
    };
    file.servers[row].id = id.clone();
    if let Some(r) = &mut file.ranking {
        r.iter_mut().for_each(swap);
    }
    for f in &mut file.faults {
        faults::rename_in_fault(f, &swap);
    }
    Ok(())
}

/// Parses a pasted matrix. The numbers may be separated by commas,
/// semicolons, tabs or spaces; blank lines are skipped. It must be
/// `n × n`.
pub fn parse_csv(text: &str, n: usize) -> Result<Vec<Vec<f64>>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Result<Vec<f64>, String> = line
            .split([',', ';', '\t', ' '])
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().parse::<f64>().map_err(|_| format!("line {}: '{}' is not a number", i + 1, c.trim())))
            .collect();
        rows.push(row?);
    }
    if rows.len() != n {
        return Err(format!("the pasted matrix has {} rows; the group has {n} servers", rows.len()));
    }
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n) {
        return Err(format!("row {} of the pasted matrix has {} numbers, expected {n}", i + 1, r.len()));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn patent() -> ScenarioFile {
        crate::presets::file("patent-5").unwrap()
    }

    #[test]
    fn add_then_remove_keeps_the_scenario_valid() {
        let mut f = patent();
        apply(&mut f, Edit::AddServer, true).unwrap();
        assert_eq!(f.servers.len(), 6);
        assert_eq!(f.delays_ms.len(), 6);
        assert!(f.delays_ms.iter().all(|r| r.len() == 6));
        assert_eq!(f.ranking.as_ref().unwrap().last().unwrap(), "server-5");
        f.validate().unwrap();
        apply(&mut f, Edit::RemoveServer(0), true).unwrap();
        assert_eq!(f.servers.len(), 5);
        assert!(f.faults.is_empty(), "the crash of ottawa went with ottawa");
        f.validate().unwrap();
    }

    #[test]
    fn rename_follows_into_ranking_and_faults() {
        let mut f = patent();
        apply(&mut f, Edit::RenameServer { row: 0, id: "montreal".into() }, true).unwrap();
        assert_eq!(f.ranking.as_ref().unwrap()[0], "montreal");
        assert_eq!(f.faults[0].action, stagger_core::scenario::FaultActionEntry::Crash("montreal".into()));
        f.validate().unwrap();
    }

    #[test]
    fn rename_onto_another_id_is_refused() {
        let mut f = patent();
        assert!(apply(&mut f, Edit::RenameServer { row: 1, id: "ottawa".into() }, true).unwrap_err().contains("already"));
        assert_eq!(f, patent());
    }

    #[test]
    fn move_rank_and_rank_by() {
        let mut f = patent();
        apply(&mut f, Edit::MoveRank { from: 4, to: 1 }, true).unwrap();
        assert_eq!(f.ranking.as_ref().unwrap()[..3], ["ottawa", "tokyo", "atlanta"]);
        apply(&mut f, Edit::RankBy(Some("compute".into())), true).unwrap();
        assert!(f.ranking.is_none());
        assert!(f.validate().is_err(), "only ottawa has `compute`");
    }

    #[test]
    fn symmetric_cell_edit_sets_the_mirror() {
        let mut f = patent();
        apply(&mut f, Edit::SetDelay { j: 1, k: 3, ms: 42.0 }, true).unwrap();
        assert_eq!((f.delays_ms[1][3], f.delays_ms[3][1]), (42.0, 42.0));
        apply(&mut f, Edit::SetDelay { j: 1, k: 3, ms: 7.0 }, false).unwrap();
        assert_eq!((f.delays_ms[1][3], f.delays_ms[3][1]), (7.0, 42.0));
    }

    #[test]
    fn random_matrix_is_seeded() {
        let (mut a, mut b) = (patent(), patent());
        apply(&mut a, Edit::Randomize { seed: 9, lo: 5, hi: 50 }, true).unwrap();
        apply(&mut b, Edit::Randomize { seed: 9, lo: 5, hi: 50 }, true).unwrap();
        assert_eq!(a.delays_ms, b.delays_ms);
        assert_eq!(a.delays_ms[2][4], a.delays_ms[4][2]);
        a.validate().unwrap();
    }

    #[test]
    fn csv_paste() {
        assert_eq!(parse_csv("0, 1\n2\t0\n", 2).unwrap(), vec![vec![0.0, 1.0], vec![2.0, 0.0]]);
        assert!(parse_csv("0 1\n2 x", 2).unwrap_err().contains("'x' is not a number"));
        assert!(parse_csv("0 1 2\n1 0 2", 2).unwrap_err().contains("row 1"));
        assert!(parse_csv("0 1", 2).unwrap_err().contains("1 rows"));
    }
}
