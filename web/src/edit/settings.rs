//! Edits of attributes, ranking and parameters that must touch more than
//! one field to leave the file coherent: an attribute belongs to every
//! server, a scheme owns its parameters, a list of periods has one entry per
//! server, the functional table is the staggered timer's alone.

use super::ranking;
use stagger_core::scenario::{AlgorithmName, DetectionEntry, Periods, SchemeName, TimerEntry};
use stagger_core::ScenarioFile;

/// The default detection period of SPEC §7, used when a list is started.
const DEFAULT_PERIOD_MS: f64 = 500.0;

pub(super) fn add_attr(file: &mut ScenarioFile, key: String) -> Result<(), String> {
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err("an attribute needs a name".into());
    }
    if file.servers.iter().all(|s| s.attrs.contains_key(&key)) {
        return Err(format!("every server already has '{key}'"));
    }
    for s in &mut file.servers {
        s.attrs.entry(key.clone()).or_insert(0.0);
    }
    Ok(())
}

pub(super) fn remove_attr(file: &mut ScenarioFile, key: &str) {
    if file.rank_by.as_deref() == Some(key) {
        file.ranking = Some(ranking(file));
        file.rank_by = None;
    }
    for s in &mut file.servers {
        s.attrs.remove(key);
    }
}

pub(super) fn repair_ranking(file: &mut ScenarioFile) {
    let mut order: Vec<String> = Vec::with_capacity(file.servers.len());
    for id in file.ranking.iter().flatten() {
        if file.servers.iter().any(|s| s.id == *id) && !order.contains(id) {
            order.push(id.clone());
        }
    }
    for s in &file.servers {
        if !order.contains(&s.id) {
            order.push(s.id.clone());
        }
    }
    file.ranking = Some(order);
    file.rank_by = None;
}

pub(super) fn set_scheme(file: &mut ScenarioFile, scheme: SchemeName) {
    let t = file.timer.get_or_insert_with(|| TimerEntry::scheme(SchemeName::Integral));
    // Carry the old scheme's one number over where it has a meaning.
    let carried = t.base_ms.or(t.delay_ms).or(t.min_ms);
    t.scheme = scheme;
    match scheme {
        SchemeName::Integral => {
            t.base_ms = t.base_ms.or(t.delay_ms);
            (t.delay_ms, t.min_ms, t.max_ms) = (None, None, None);
        }
        SchemeName::Equal => {
            t.delay_ms = Some(carried.unwrap_or(50.0));
            (t.base_ms, t.min_ms, t.max_ms) = (None, None, None);
        }
        SchemeName::Randomized => {
            // Raft's customary 150–300 ms, unless the file already had a range.
            t.min_ms = Some(t.min_ms.unwrap_or(150.0));
            t.max_ms = Some(t.max_ms.unwrap_or(300.0));
            (t.base_ms, t.delay_ms) = (None, None);
        }
    }
}

pub(super) fn set_algorithm(file: &mut ScenarioFile, algorithm: AlgorithmName) {
    match algorithm {
        // The default: a file that never chose keeps saying nothing.
        AlgorithmName::Stagger => file.algorithm = file.algorithm.filter(|a| *a == AlgorithmName::Stagger),
        other => {
            file.algorithm = Some(other);
            // Raft and Bully refuse it, and the editor hides it for them.
            file.known_functional = None;
        }
    }
}

pub(super) fn per_server_periods(file: &mut ScenarioFile, on: bool) {
    let n = file.servers.len();
    let d = file.detection.get_or_insert(DetectionEntry { period_ms: None, timeout_ms: None, phase: None, misses: None });
    d.period_ms = match (d.period_ms.take(), on) {
        (Some(Periods::PerServer(mut list)), true) => {
            let last = list.last().copied().unwrap_or(DEFAULT_PERIOD_MS);
            list.resize(n, last);
            Some(Periods::PerServer(list))
        }
        (Some(Periods::Equal(p)), true) => Some(Periods::PerServer(vec![p; n])),
        (None, true) => Some(Periods::PerServer(vec![DEFAULT_PERIOD_MS; n])),
        (Some(Periods::PerServer(list)), false) => Some(Periods::Equal(list.first().copied().unwrap_or(DEFAULT_PERIOD_MS))),
        (other, false) => other,
    };
}

#[cfg(test)]
mod tests {
    use super::super::{apply, Edit};
    use stagger_core::params::Algorithm;
    use stagger_core::scenario::{AlgorithmName, Periods, RaftEntry, SchemeName};
    use stagger_core::ScenarioFile;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn patent() -> ScenarioFile {
        crate::presets::file("patent-5").unwrap()
    }

    #[test]
    fn an_attribute_is_added_to_all_and_removed_from_all() {
        let mut f = patent();
        apply(&mut f, Edit::AddAttr(" compute ".into()), true).unwrap();
        assert!(f.servers.iter().all(|s| s.attrs.contains_key("compute")));
        assert_eq!(f.servers[0].attrs["compute"], 8.0, "an existing value is kept");
        assert!(apply(&mut f, Edit::AddAttr("compute".into()), true).is_err());
        assert!(apply(&mut f, Edit::AddAttr("  ".into()), true).is_err());
        apply(&mut f, Edit::RankBy(Some("compute".into())), true).unwrap();
        let before = super::ranking(&f);
        apply(&mut f, Edit::RemoveAttr("compute".into()), true).unwrap();
        assert!(f.servers.iter().all(|s| !s.attrs.contains_key("compute")));
        assert_eq!(f.rank_by, None);
        assert_eq!(f.ranking, Some(before), "the order ranked by the attribute is kept");
        f.validate().unwrap();
    }

    #[test]
    fn repair_keeps_known_ids_in_order_and_appends_the_rest() {
        let mut f = patent();
        f.ranking = Some(vec!["tokyo".into(), "nowhere".into(), "tokyo".into(), "atlanta".into()]);
        assert!(f.validate().is_err());
        apply(&mut f, Edit::RepairRanking, true).unwrap();
        assert_eq!(f.ranking.as_ref().unwrap(), &["tokyo", "atlanta", "ottawa", "bangalore", "sydney"]);
        f.validate().unwrap();
    }

    #[test]
    fn switching_schemes_keeps_the_file_valid() {
        let mut f = patent();
        for s in [SchemeName::Equal, SchemeName::Randomized, SchemeName::Integral, SchemeName::Randomized, SchemeName::Equal] {
            apply(&mut f, Edit::SetScheme(s), true).unwrap();
            assert_eq!(f.timer.as_ref().unwrap().scheme, s);
            f.validate().unwrap_or_else(|e| panic!("{s:?}: {e}"));
        }
        let t = f.timer.as_ref().unwrap();
        assert_eq!((t.base_ms, t.min_ms, t.max_ms), (None, None, None));
        assert_eq!(t.delay_ms, Some(150.0), "randomized min carried over");
        let mut g = patent();
        g.timer = None;
        apply(&mut g, Edit::SetScheme(SchemeName::Equal), true).unwrap();
        assert_eq!(g.timer.unwrap().delay_ms, Some(50.0));
    }

    #[test]
    fn switching_algorithms_keeps_every_setting_for_switching_back() {
        let mut f = patent();
        f.known_functional = Some(true);
        f.raft = Some(RaftEntry { heartbeat_ms: Some(100.0), ..Default::default() });
        let timer = f.timer.clone();
        apply(&mut f, Edit::SetAlgorithm(AlgorithmName::Raft), true).unwrap();
        assert_eq!(f.algorithm, Some(AlgorithmName::Raft));
        assert_eq!(f.known_functional, None, "Raft refuses the functional table");
        assert!(matches!(f.validate().unwrap().algorithm, Algorithm::Raft(p) if p.heartbeat.unwrap().as_ms() == 100.0));
        let json = f.to_json_pretty();
        assert!(json.contains("\"algorithm\": \"raft\"") && json.contains("\"heartbeat_ms\": 100"), "{json}");
        apply(&mut f, Edit::SetAlgorithm(AlgorithmName::Bully), true).unwrap();
        assert!(matches!(f.validate().unwrap().algorithm, Algorithm::Bully(_)));
        apply(&mut f, Edit::SetAlgorithm(AlgorithmName::Stagger), true).unwrap();
        assert_eq!(f.algorithm, None, "the default is left unsaid");
        assert_eq!((&f.timer, f.raft.as_ref().unwrap().heartbeat_ms), (&timer, Some(100.0)));
        assert!(!f.to_json_pretty().contains("algorithm"));
    }

    #[test]
    fn periods_switch_between_one_and_a_list() {
        let mut f = patent();
        apply(&mut f, Edit::PerServerPeriods(true), true).unwrap();
        assert_eq!(f.detection.as_ref().unwrap().period_ms, Some(Periods::PerServer(vec![500.0; 5])));
        f.validate().unwrap();
        apply(&mut f, Edit::AddServer, true).unwrap();
        apply(&mut f, Edit::RemoveServer(2), true).unwrap();
        f.validate().unwrap();
        apply(&mut f, Edit::PerServerPeriods(false), true).unwrap();
        assert_eq!(f.detection.as_ref().unwrap().period_ms, Some(Periods::Equal(500.0)));
        let mut g = patent();
        g.detection = None;
        apply(&mut g, Edit::PerServerPeriods(true), true).unwrap();
        g.validate().unwrap();
    }
}
