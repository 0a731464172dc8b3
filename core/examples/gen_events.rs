//! Prints the SPEC §8 metrics of the generated benchmark groups, the
//! numbers docs/benchmarks.md quotes next to the timings.
use stagger_core::{gen, Sim};
fn main() {
    for n in [10, 100, 1000] {
        for (name, f) in [("integral", gen::integral(n)), ("storm", gen::storm(n))] {
            let m = Sim::new(&f.validate().unwrap(), false).run().metrics;
            println!(
                "{name}/{n}: events {} declare {} revoke {} election {}",
                m.events, m.messages.declare, m.messages.revoke, m.election_messages
            );
        }
    }
}
