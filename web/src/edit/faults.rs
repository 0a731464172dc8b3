//! Fault list edits. The list is kept in the order the faults apply: a
//! stable sort by time, in the simulator's integer microseconds. That is
//! exactly the order validation uses (equal instants keep file order), so
//! sorting never changes a run, and row `i` of the editor is `faults[i]` of
//! any error.

use stagger_core::scenario::FaultEntry;
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

#[cfg(test)]
mod tests {
    use super::super::{apply, Edit};
    use stagger_core::scenario::FaultEntry;
    use stagger_core::ScenarioFile;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn patent() -> ScenarioFile {
        crate::presets::file("patent-5").unwrap()
    }

    fn at(ms: f64) -> FaultEntry {
        FaultEntry { at_ms: ms, crash: None, recover: None, partition: None, cut: None, heal: Some(true), rerank: None }
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
        let mut recover = at(1900.0);
        (recover.heal, recover.recover) = (None, Some("ottawa".into()));
        apply(&mut f, Edit::AddFault(recover), true).unwrap();
        assert_eq!(f.faults[1].crash.as_deref(), Some("ottawa"));
        assert_eq!(f.faults[2].recover.as_deref(), Some("ottawa"));
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
}
