//! One component per file. Components read and change the playground
//! through the [`Store`] context, or take plain props when they only draw.

pub mod compare;
pub mod editor;
pub mod help;
pub mod live;
pub mod overview;
pub mod results;
pub mod run_status;
pub mod toast;
pub mod toolbar;
pub mod watch;

use crate::state::Playground;
use yew::prelude::*;

/// The playground's state handle, provided by the `App` to every component.
pub type Store = UseReducerHandle<Playground>;

/// The store from context. Components are only used under the `App`.
#[hook]
pub fn use_store() -> Store {
    use_context::<Store>().expect("components live under the App's store")
}
