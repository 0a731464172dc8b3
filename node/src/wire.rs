//! The wire format on `/ws`. It lives in `stagger_core::wire`, so that a
//! browser member (the playground, in wasm) speaks it with the same code;
//! see there for the frames, the refusals and the conversation.

pub use stagger_core::wire::*;
