//! The fault timeline's logic: new faults with sensible targets, edits of
//! the list, what a server's removal or renaming does to the faults that
//! name it, and how a fault is told in a few words. The editor's components
//! only draw it.
//!
//! The list is kept in the order the faults apply: a stable sort by time,
//! in the simulator's integer microseconds. That is exactly the order
//! validation uses (equal instants keep file order), so sorting never
//! changes a run, and row `i` of the editor is `faults[i]` of any error.

use stagger_core::scenario::{FaultActionEntry, FaultEntry, FaultKind, RerankEntry};
use stagger_core::time::ms_to_us;
use stagger_core::ScenarioFile;

pub(super) fn add(file: &mut ScenarioFile, fault: FaultEntry) {
    file.faults.push(fault);
    sort(file);
}

pub(super) fn set(file: &mut ScenarioFile, index: usize, fault: FaultEntry) -> Result<(), String> {
    *file.faults.get_mut(index).ok_or("no such fault")? = fault;
    sort(file);
    Ok(())
}

pub(super) fn remove(file: &mut ScenarioFile, index: usize) -> Result<(), String> {
    if index >= file.faults.len() {
        return Err("no such fault".into());
    }
    file.faults.remove(index);
    Ok(())
}

/// Stable; a time validation would refuse sorts last, where its error is
/// easy to find.
fn sort(file: &mut ScenarioFile) {
    file.faults.sort_by_key(|f| ms_to_us(f.at_ms).unwrap_or(u64::MAX));
}

/// After server `id` is removed: faults that name it go, partitions and
/// new orders just lose it.
pub(super) fn forget_server(file: &mut ScenarioFile, id: &str) {
    file.faults.retain(|f| match &f.action {
        FaultActionEntry::Crash(x) | FaultActionEntry::Recover(x) => x != id,
        FaultActionEntry::Cut(link) => link.iter().all(|x| x != id),
        _ => true,
    });
    for f in &mut file.faults {
        match &mut f.action {
            FaultActionEntry::Partition(groups) => {
                for g in groups.iter_mut() {
                    g.retain(|x| x != id);
                }
                groups.retain(|g| !g.is_empty());
            }
            FaultActionEntry::Rerank(RerankEntry::Order(list)) => list.retain(|x| x != id),
            _ => {}
        }
    }
}

/// Applies a server's renaming (`swap` changes the old id to the new one)
/// to every id a fault names.
pub(super) fn rename_in_fault(f: &mut FaultEntry, swap: &dyn Fn(&mut String)) {
    match &mut f.action {
        FaultActionEntry::Crash(x) | FaultActionEntry::Recover(x) => swap(x),
        FaultActionEntry::Cut(link) => link.iter_mut().for_each(swap),
        FaultActionEntry::Partition(groups) => groups.iter_mut().flatten().for_each(swap),
        FaultActionEntry::Rerank(RerankEntry::Order(list)) => list.iter_mut().for_each(swap),
        FaultActionEntry::Rerank(RerankEntry::Criterion(by)) => {
            let keys: Vec<String> = by.attrs.keys().cloned().collect();
            for k in keys {
                let mut nk = k.clone();
                swap(&mut nk);
                if nk != k {
                    let v = by.attrs.remove(&k).expect("listed");
                    by.attrs.insert(nk, v);
                }
            }
        }
        FaultActionEntry::Heal => {}
    }
}

/// The servers down just after `at_ms`, in the order they went down.
fn down_at(file: &ScenarioFile, at_ms: f64) -> Vec<String> {
    let mut down: Vec<String> = Vec::new();
    for f in file.faults.iter().filter(|f| f.at_ms <= at_ms) {
        match &f.action {
            FaultActionEntry::Crash(id) => {
                down.retain(|d| d != id);
                down.push(id.clone());
            }
            FaultActionEntry::Recover(id) => down.retain(|d| d != id),
            _ => {}
        }
    }
    down
}

/// A new fault of `kind`, a second after the last one (or at 1 s), with
/// targets that make sense at that time (crash the server that is master
/// by then, recover the last one crashed), so adding one usually leaves the
/// file valid. `ranking` is best first.
pub fn new_fault(kind: FaultKind, file: &ScenarioFile, ranking: &[String]) -> FaultEntry {
    let last =
        file.faults.iter().map(|f| f.at_ms).filter(|t| t.is_finite()).fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
    let until = file.until_ms.filter(|u| u.is_finite() && *u > 0.0).unwrap_or(12_000.0);
    let at_ms = last.map_or(1000.0_f64.min(until), |t| (t + 1000.0).min(until).max(t));
    let down = down_at(file, at_ms);
    let up: Vec<&String> = ranking.iter().filter(|id| !down.contains(id)).collect();
    let first = ranking.first().cloned().unwrap_or_default();
    let action = match kind {
        FaultKind::Crash => FaultActionEntry::Crash(up.first().map_or(first, |id| (*id).clone())),
        FaultKind::Recover => FaultActionEntry::Recover(down.last().cloned().unwrap_or(first)),
        FaultKind::Partition => {
            let half = ranking.len().div_ceil(2);
            FaultActionEntry::Partition(
                vec![ranking[..half].to_vec(), ranking[half..].to_vec()].into_iter().filter(|g| !g.is_empty()).collect(),
            )
        }
        FaultKind::Cut => FaultActionEntry::Cut([first, ranking.get(1).cloned().unwrap_or_default()]),
        FaultKind::Heal => FaultActionEntry::Heal,
        FaultKind::Rerank => {
            // The master steps down to last place: the smallest real change.
            let mut order = ranking.to_vec();
            let steps = 1.min(order.len());
            order.rotate_left(steps);
            FaultActionEntry::Rerank(RerankEntry::Order(order))
        }
    };
    FaultEntry { at_ms, action }
}

/// A fault in a few words: when, and to whom (a timeline marker's tooltip).
pub fn describe(f: &FaultEntry) -> String {
    let what = match &f.action {
        FaultActionEntry::Crash(id) => format!("crash {id}"),
        FaultActionEntry::Recover(id) => format!("recover {id}"),
        FaultActionEntry::Partition(groups) => {
            let groups = groups.iter().map(|g| g.join(", ")).collect::<Vec<_>>();
            format!("partition {}", groups.join(" | "))
        }
        FaultActionEntry::Cut([a, b]) => format!("cut {a} → {b}"),
        FaultActionEntry::Heal => "heal".into(),
        FaultActionEntry::Rerank(_) => "rerank".into(),
    };
    format!("{} ms: {what}", f.at_ms)
}

#[cfg(test)]
mod tests {
    use super::super::{apply, Edit};
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn patent() -> ScenarioFile {
        crate::presets::file("patent-5").unwrap()
    }

    fn ranking(f: &ScenarioFile) -> Vec<String> {
        crate::edit::ranking(f)
    }

    fn at(ms: f64) -> FaultEntry {
        FaultEntry { at_ms: ms, action: FaultActionEntry::Heal }
    }

    fn times(f: &ScenarioFile) -> Vec<f64> {
        f.faults.iter().map(|f| f.at_ms).collect()
    }

    #[test]
    fn faults_stay_in_time_order() {
        let mut f = patent();
        apply(&mut f, Edit::AddFault(at(500.0)), true).unwrap();
        apply(&mut f, Edit::AddFault(at(3000.0)), true).unwrap();
        assert_eq!(times(&f), [500.0, 1900.0, 3000.0]);
        // An instant already taken goes after the faults there (file order).
        let recover = FaultEntry { at_ms: 1900.0, action: FaultActionEntry::Recover("ottawa".into()) };
        apply(&mut f, Edit::AddFault(recover), true).unwrap();
        assert_eq!(f.faults[1].action, FaultActionEntry::Crash("ottawa".into()));
        assert_eq!(f.faults[2].action, FaultActionEntry::Recover("ottawa".into()));
        f.validate().unwrap();
        apply(&mut f, Edit::SetFault { index: 0, fault: at(9000.0) }, true).unwrap();
        assert_eq!(times(&f), [1900.0, 1900.0, 3000.0, 9000.0]);
        apply(&mut f, Edit::SetFault { index: 1, fault: at(-1.0) }, true).unwrap();
        assert_eq!(times(&f).last(), Some(&-1.0), "an invalid time sorts last");
        apply(&mut f, Edit::RemoveFault(3), true).unwrap();
        assert_eq!(times(&f), [1900.0, 3000.0, 9000.0]);
        assert!(apply(&mut f, Edit::RemoveFault(3), true).is_err());
        assert!(apply(&mut f, Edit::SetFault { index: 3, fault: at(1.0) }, true).is_err());
    }

    #[test]
    fn every_new_fault_has_its_kind_and_a_later_time() {
        let f = patent();
        for k in FaultKind::ALL {
            let fault = new_fault(k, &f, &ranking(&f));
            assert_eq!(fault.action.kind(), k);
            assert_eq!(fault.at_ms, 2900.0);
        }
    }

    #[test]
    fn defaults_follow_who_is_up() {
        let mut f = patent();
        let r = ranking(&f);
        // ottawa crashed at 1.9 s: the next crash takes the next in rank,
        // and a recover brings ottawa back.
        assert_eq!(new_fault(FaultKind::Crash, &f, &r).action, FaultActionEntry::Crash("atlanta".into()));
        assert_eq!(new_fault(FaultKind::Recover, &f, &r).action, FaultActionEntry::Recover("ottawa".into()));
        use FaultKind::*;
        for k in [Recover, Crash, Partition, Cut, Heal, Rerank] {
            let fault = new_fault(k, &f, &r);
            apply(&mut f, Edit::AddFault(fault), true).unwrap();
            f.validate().unwrap_or_else(|e| panic!("after adding {}: {e}", k.name()));
        }
        assert_eq!(f.faults.last().unwrap().at_ms, 7900.0);
    }

    #[test]
    fn a_new_fault_stays_within_the_run() {
        let mut f = patent();
        f.until_ms = Some(2000.0);
        assert_eq!(new_fault(FaultKind::Heal, &f, &ranking(&f)).at_ms, 2000.0);
        f.faults.clear();
        assert_eq!(new_fault(FaultKind::Heal, &f, &ranking(&f)).at_ms, 1000.0);
        f.until_ms = Some(500.0);
        assert_eq!(new_fault(FaultKind::Heal, &f, &ranking(&f)).at_ms, 500.0);
        assert_eq!(
            new_fault(FaultKind::Cut, &f, &[]).action,
            FaultActionEntry::Cut([String::new(), String::new()]),
            "no servers: no panic"
        );
    }

    #[test]
    fn a_removed_server_leaves_the_faults() {
        let mut f = patent();
        let ids = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        f.faults = vec![
            FaultEntry { at_ms: 100.0, action: FaultActionEntry::Cut(["tokyo".into(), "ottawa".into()]) },
            FaultEntry { at_ms: 200.0, action: FaultActionEntry::Partition(vec![ids(&["ottawa"]), ids(&["tokyo", "atlanta"])]) },
            FaultEntry { at_ms: 300.0, action: FaultActionEntry::Rerank(RerankEntry::Order(ids(&["tokyo", "ottawa"]))) },
            FaultEntry { at_ms: 400.0, action: FaultActionEntry::Recover("ottawa".into()) },
        ];
        forget_server(&mut f, "ottawa");
        let kept: Vec<FaultActionEntry> = f.faults.iter().map(|x| x.action.clone()).collect();
        assert_eq!(
            kept,
            [FaultActionEntry::Partition(vec![ids(&["tokyo", "atlanta"])]), FaultActionEntry::Rerank(RerankEntry::Order(ids(&["tokyo"])))]
        );
    }

    #[test]
    fn a_fault_is_told_in_a_few_words() {
        let r = ranking(&patent());
        let told = |k| describe(&new_fault(k, &patent(), &r));
        assert_eq!(told(FaultKind::Crash), "2900 ms: crash atlanta");
        assert_eq!(told(FaultKind::Cut), "2900 ms: cut ottawa → atlanta");
        assert_eq!(told(FaultKind::Heal), "2900 ms: heal");
        assert!(told(FaultKind::Partition).starts_with("2900 ms: partition ottawa, atlanta, "), "{}", told(FaultKind::Partition));
        assert!(told(FaultKind::Partition).contains(" | "));
    }
}
