//! The simulator without the `service` feature: a scenario's `service` is
//! validated but not run. The playground's first page builds the core this
//! way, to keep the replicated service's engine out of its download; its
//! tabs and every native build run the service (`service.rs`). The
//! election runs exactly as it does with a load.

use super::window::ServiceMetrics;
use super::Sim;
use crate::scenario::Scenario;
use crate::server::Role;
use crate::time::Time;

/// No service: never built.
pub(super) enum Group {}

/// No service events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {}

impl Group {
    pub(super) fn start(_: &Scenario) -> Option<Box<Group>> {
        None
    }

    pub(super) fn events(&self) -> u64 {
        match *self {}
    }

    pub(super) fn finish(self, _: Time, _: Option<Time>) -> ServiceMetrics {
        match self {}
    }
}

impl<S> Sim<S> {
    pub(super) fn svc_start(&mut self) {}
    pub(super) fn svc_role(&mut self, _: u32, _: Role, _: Option<u32>) {}
    pub(super) fn svc_crash(&mut self, _: u32) {}
    pub(super) fn svc_recover(&mut self, _: u32) {}
    pub(super) fn svc_event(&mut self, ev: Event) {
        match ev {}
    }
}
