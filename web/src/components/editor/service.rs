//! The replicated service: clients writing to the key-value store while
//! the election runs, so the Watch tab shows a failover as the clients see
//! it (the requests, forwards, acks and answers on the diagram, and the
//! window in which no write completed). Off by default; every field but
//! the switch is optional.

use super::field::{at, NumField};
use super::update;
use crate::components::use_store;
use stagger_core::scenario::ServiceEntry;
use stagger_core::ScenarioFile;
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn service(f: &mut ScenarioFile) -> &mut ServiceEntry {
    f.service.get_or_insert_with(ServiceEntry::default)
}

/// One optional number of the service: its field name, label, hint,
/// default shown as the placeholder, and step.
type Row = (&'static str, &'static str, &'static str, &'static str, f64);

const MS_FIELDS: [Row; 5] = [
    ("write_every_ms", "write every (ms)", "A client's pause between one write's answer and its next write", "20", 5.0),
    ("fsync_ms", "fsync (ms)", "How long a member's write to disk takes; nothing it sends after waits less", "1", 1.0),
    (
        "ack_timeout_ms",
        "ack timeout (ms)",
        "How long the master waits for a backup before removing it from the configuration",
        "2 rounds",
        50.0,
    ),
    ("client_delay_ms", "client delay (ms)", "One-way delay between any server and the clients or the name server", "1", 1.0),
    ("client_timeout_ms", "client timeout (ms)", "How long a client waits for an answer before it looks the master up again", "auto", 50.0),
];

fn ms_slot<'a>(s: &'a mut ServiceEntry, name: &str) -> &'a mut Option<f64> {
    match name {
        "write_every_ms" => &mut s.write_every_ms,
        "fsync_ms" => &mut s.fsync_ms,
        "ack_timeout_ms" => &mut s.ack_timeout_ms,
        "client_delay_ms" => &mut s.client_delay_ms,
        _ => &mut s.client_timeout_ms,
    }
}

#[function_component(Service)]
pub fn service_card() -> Html {
    let store = use_store();
    let err = store.outcome.error();
    let f = &store.file;
    let on = f.service.is_some();
    let s = f.service.clone().unwrap_or_default();

    let on_toggle = {
        let set = update(&store, |f, on: bool| f.service = on.then(ServiceEntry::default));
        Callback::from(move |e: Event| set.emit(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let on_clients = update(&store, |f, v: Option<u32>| service(f).clients = v);
    let on_keys = update(&store, |f, v: Option<u32>| service(f).keys = v);
    let ms_fields = MS_FIELDS.iter().map(|&(name, label, hint, placeholder, step)| {
        let path = format!("service.{name}");
        let value = *ms_slot(&mut s.clone(), name);
        let on_commit = update(&store, move |f, v: Option<f64>| *ms_slot(service(f), name) = v);
        html! {
            <label class="ed-field" key={name}>
                <span class="ed-label" title={hint}>{label}</span>
                <NumField<f64> field={path.clone()} value={value} optional=true placeholder={placeholder} step={step}
                    error={at(err, &path)} {on_commit} />
            </label>
        }
    });

    html! {
        <section class="card ed-card" aria-label="Replicated service" data-testid="service-card">
            <header class="ed-head">
                <h3>{"Replicated service"}</h3>
                <label class="ed-check" title="Clients write to the key-value store through the master, which forwards every write to the backups">
                    <input type="checkbox" data-field="service" checked={on} onchange={on_toggle} data-testid="service-on" />
                    {"clients writing"}
                </label>
            </header>
            if let Some(msg) = at(err, "service") { <p class="field-error">{msg}</p> }
            if on {
                <div class="ed-form">
                    <label class="ed-field">
                        <span class="ed-label" title="Clients, each with one write waiting at a time (1 – 64)">{"clients"}</span>
                        <NumField<u32> field="service.clients" value={s.clients} optional=true placeholder="2"
                            error={at(err, "service.clients")} on_commit={on_clients} />
                    </label>
                    <label class="ed-field">
                        <span class="ed-label" title="The keys the writes spread over (1 – 1000)">{"keys"}</span>
                        <NumField<u32> field="service.keys" value={s.keys} optional=true placeholder="4"
                            error={at(err, "service.keys")} on_commit={on_keys} />
                    </label>
                    { for ms_fields }
                </div>
            } else {
                <p class="ed-note muted">{"Off: the run is the election alone. On, clients write through the master and the Watch tab draws each write's request, forwards, acks and answer, and the caption says how long no write completed around a crash."}</p>
            }
        </section>
    }
}
