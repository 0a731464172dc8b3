//! Simulator speed (issue 2 point 7): events per second for an integral
//! election and an equal-timer storm at 10, 100 and 1,000 servers, with and
//! without recording the trace. Run with `cargo xtask bench`; the results
//! and the command go in docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stagger_core::{gen, Scenario, Sim};
use std::time::Duration;

fn scenarios() -> Vec<(&'static str, usize, Scenario)> {
    let mut out = Vec::new();
    for n in [10, 100, 1000] {
        out.push(("integral", n, gen::integral(n).validate().unwrap()));
        out.push(("storm", n, gen::storm(n).validate().unwrap()));
    }
    out
}

fn bench(c: &mut Criterion) {
    for record in [false, true] {
        let mut group = c.benchmark_group(if record { "sim-traced" } else { "sim" });
        group.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
        for (name, n, s) in scenarios() {
            // The events of one run, so criterion reports events per second.
            let events = Sim::new(&s, false).run().metrics.events;
            group.throughput(Throughput::Elements(events));
            group.bench_with_input(BenchmarkId::new(name, n), &s, |b, s| b.iter(|| Sim::new(s, record).run()));
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
