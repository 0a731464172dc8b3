//! The servers: ids and numeric attributes, one row each, in `servers`
//! order (the order of the matrix). Renaming follows into the ranking and
//! the faults; removing a server removes its row and column and the faults
//! that name it (see `edit.rs`).

use super::attrs::AddAttr;
use super::field::{at, within, NumField, TextField};
use super::{current_ranking, edit, ids};
use crate::components::use_store;
use crate::edit::Edit;
use std::collections::BTreeSet;
use yew::prelude::*;

#[function_component(Servers)]
pub fn servers() -> Html {
    let store = use_store();
    let f = &store.file;
    let err = store.outcome.error();
    let n = f.servers.len();
    let keys: BTreeSet<String> = f.servers.iter().flat_map(|s| s.attrs.keys().cloned()).collect();
    let all_ids = ids(f);
    let order = current_ranking(&store);
    let rank_of = |id: &str| order.iter().position(|x| x == id);

    let on_add = edit(&store, |_: MouseEvent| Edit::AddServer);
    let leaves: Vec<String> = (0..n)
        .flat_map(|r| {
            let attr_paths = f.servers[r].attrs.keys().map(move |k| format!("servers[{r}].attrs.{k}"));
            std::iter::once(format!("servers[{r}].id")).chain(attr_paths)
        })
        .collect();

    let rows = f.servers.iter().enumerate().map(|(r, s)| {
        let on_rename = edit(&store, move |id: String| Edit::RenameServer { row: r, id: id.trim().to_string() });
        let check = {
            let others: Vec<String> = all_ids.iter().enumerate().filter(|(o, _)| *o != r).map(|(_, id)| id.clone()).collect();
            Callback::from(move |id: String| {
                let id = id.trim().to_string();
                others.contains(&id).then(|| format!("'{id}' is already the id of another server"))
            })
        };
        let on_remove = edit(&store, move |_: MouseEvent| Edit::RemoveServer(r));
        let rank = rank_of(&s.id).map_or("—".to_string(), |i| format!("S{i}"));
        html! {
            <tr key={r}>
                <td class="ed-row-no muted">{r}</td>
                <td class="ed-id">
                    <TextField field={format!("servers[{r}].id")} value={s.id.clone()} label={format!("id of server {r}")}
                        error={at(err, &format!("servers[{r}].id"))} check={check} on_commit={on_rename} />
                </td>
                <td class="ed-rank muted" title="Its index in the ranking: S0 is the master at start">{rank}</td>
                { for keys.iter().map(|k| {
                    let key = k.clone();
                    let on_value = edit(&store, move |v: Option<f64>| Edit::SetAttr { row: r, key: key.clone(), value: v });
                    let path = format!("servers[{r}].attrs.{k}");
                    html! {
                        <td class="ed-attr">
                            <NumField<f64> field={path.clone()} value={s.attrs.get(k).copied()} optional=true placeholder="—"
                                label={format!("{k} of {}", s.id)} error={at(err, &path)} on_commit={on_value} />
                        </td>
                    }
                }) }
                <td class="ed-actions">
                    <button class="icon danger" onclick={on_remove} disabled={n <= 2}
                        title={if n <= 2 { "A group needs at least two servers".to_string() } else { format!("Remove {}", s.id) }}
                        aria-label={format!("Remove server {}", s.id)} data-testid={format!("remove-server-{r}")}>{"✕"}</button>
                </td>
            </tr>
        }
    });

    html! {
        <section class="card ed-card" aria-label="Servers">
            <header class="ed-head">
                <h3>{"Servers"}<span class="muted">{format!(" · {n}")}</span></h3>
                <button class="primary small" onclick={on_add} data-testid="add-server">{"+ Add server"}</button>
            </header>
            <super::field::FieldError field="servers" error={within(err, "servers", &leaves)} />
            <div class={classes!("ed-scroll", "ed-servers", (n > 12).then_some("tall"))}>
                <table class="ed-table">
                    <thead>
                        <tr>
                            <th title="Row in the file: the order of the delay matrix">{"#"}</th>
                            <th>{"id"}</th>
                            <th>{"rank"}</th>
                            { for keys.iter().map(|k| {
                                let key = k.clone();
                                let on_drop = edit(&store, move |_: MouseEvent| Edit::RemoveAttr(key.clone()));
                                html! {
                                    <th class="ed-attr-head">
                                        <span title={format!("numeric attribute '{k}'; rank by it in Ranking")}>{k.clone()}</span>
                                        <button class="icon tiny" onclick={on_drop} title={format!("Remove '{k}' from every server")}
                                            aria-label={format!("Remove attribute {k}")}>{"✕"}</button>
                                    </th>
                                }
                            }) }
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
            <AddAttr />
        </section>
    }
}
