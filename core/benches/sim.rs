//! Simulator speed: events per second for an integral
//! election and an equal-timer storm at 10, 100 and 1,000 servers, with and
//! without recording the trace. Run with `cargo xtask bench`; the results
//! and the command go in docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
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
            // The event loop alone: set-up (building N engines and the
            // O(N²) δ table) is measured separately in "setup".
            group.bench_with_input(BenchmarkId::new(name, n), &s, |b, s| {
                b.iter_batched(|| Sim::new(s, record), |sim| sim.run(), BatchSize::LargeInput)
            });
        }
        group.finish();
    }
    let mut group = c.benchmark_group("setup");
    group.sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    for n in [10, 100, 1000] {
        let s = gen::integral(n).validate().unwrap();
        group.bench_with_input(BenchmarkId::new("sim-new", n), &s, |b, s| b.iter(|| Sim::new(s, false)));
    }
    group.finish();
    // Whole runs, set-up included: the number a user waits for.
    let mut group = c.benchmark_group("whole-run");
    group.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    let storm = gen::storm(1000).validate().unwrap();
    group.bench_function("storm/1000", |b| b.iter(|| Sim::new(&storm, false).run()));
    group.bench_function("storm/1000/traced", |b| b.iter(|| Sim::new(&storm, true).run()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
