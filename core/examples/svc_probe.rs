fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let s = stagger_core::Scenario::from_json(&text).unwrap();
    let run = stagger_core::Sim::new(&s, true).run();
    let m = run.metrics.service.clone().unwrap();
    println!("{}", serde_json::to_string_pretty(&run.metrics).unwrap());
    println!("{:?}", m.window_text());
    let t = run.trace.unwrap();
    let n = t.events.iter().filter(|e| matches!(e.what, stagger_core::sim::What::Service(_))).count();
    println!("service entries {n} of {}", t.events.len());
    for e in t.events.iter().filter(|e| e.t.0 > 1_890_000 && e.t.0 < 3_400_000) {
        if let stagger_core::sim::What::Service(stagger_core::sim::Flow::Message{..}) = e.what { } 
        println!("{} {}", e.t.as_ms(), e.what.describe(&s.ids, &s.rank_table()));
    }
}
