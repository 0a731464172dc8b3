//! The Stagger playground. Until the playground issue lands this crate only
//! proves that `stagger-core` links into a wasm build; it has no UI yet.

pub use stagger_core;
