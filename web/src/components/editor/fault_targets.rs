//! The target pickers of a fault: one server, a partition's groups, a new
//! ranking. They emit the new value; the row turns it into a fault edit.

use super::field::{at, data_field, within, FieldError};
use stagger_core::scenario::{RerankBy, RerankEntry};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// A group's label: A, B, … Z, then 27, 28, …
pub fn group_label(g: usize) -> String {
    match u8::try_from(g).ok().filter(|g| *g < 26) {
        Some(g) => char::from(b'A' + g).to_string(),
        None => (g + 1).to_string(),
    }
}

/// Each server's group in a partition (`None`: it stands alone).
pub fn assignment(groups: &[Vec<String>], ids: &[String]) -> Vec<Option<usize>> {
    ids.iter().map(|id| groups.iter().position(|g| g.contains(id))).collect()
}

/// The partition for an assignment: groups in label order, members in
/// `servers` order, empty groups dropped.
pub fn groups_of(assign: &[Option<usize>], ids: &[String]) -> Vec<Vec<String>> {
    let top = assign.iter().flatten().max().map_or(0, |m| m + 1);
    (0..top)
        .map(|g| ids.iter().zip(assign).filter(|(_, a)| **a == Some(g)).map(|(id, _)| id.clone()).collect::<Vec<_>>())
        .filter(|g| !g.is_empty())
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct ServerProps {
    pub field: AttrValue,
    pub value: AttrValue,
    pub ids: Vec<String>,
    pub error: Option<AttrValue>,
    pub on_change: Callback<String>,
    /// Its accessible name: what the server is to the fault.
    pub label: AttrValue,
}

/// One server, by id. An id no server has (an imported file) stays
/// selectable so the error next to it makes sense.
#[function_component(ServerSelect)]
pub fn server_select(p: &ServerProps) -> Html {
    let on_change = p.on_change.clone();
    let onchange = Callback::from(move |e: Event| on_change.emit(e.target_unchecked_into::<HtmlSelectElement>().value()));
    let unknown = !p.ids.iter().any(|id| *id == p.value.as_str());
    html! {
        <span class="ed-target">
            <select data-field={data_field(&p.field)} class={classes!(p.error.is_some().then_some("invalid"))} aria-label={p.label.clone()}
                {onchange}>
                if unknown { <option value={p.value.clone()} selected=true>{format!("{} (unknown)", p.value)}</option> }
                { for p.ids.iter().map(|id| html! { <option value={id.clone()} selected={*id == p.value.as_str()}>{id.clone()}</option> }) }
            </select>
            <FieldError field={p.field.clone()} error={p.error.clone()} />
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct PartitionProps {
    /// `faults[i].partition`
    pub field: AttrValue,
    pub groups: Vec<Vec<String>>,
    pub ids: Vec<String>,
    pub error: Option<AttrValue>,
    pub on_change: Callback<Vec<Vec<String>>>,
}

/// A group picker per server. One more group than in use is offered, so a
/// new side can be started from any server.
#[function_component(PartitionPicker)]
pub fn partition_picker(p: &PartitionProps) -> Html {
    let assign = assignment(&p.groups, &p.ids);
    let offered = (p.groups.len() + 1).min(p.ids.len().max(1));
    let chips = p.ids.iter().enumerate().map(|(r, id)| {
        let g = assign.get(r).copied().flatten();
        // The member's own path in the file, `faults[i].partition[g][k]`.
        let path = g.and_then(|g| Some(format!("{}[{g}][{}]", p.field, p.groups.get(g)?.iter().position(|x| x == id)?)));
        let (assign, ids, on_change) = (assign.clone(), p.ids.clone(), p.on_change.clone());
        let onchange = Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            let mut a = assign.clone();
            if let Some(slot) = a.get_mut(r) {
                *slot = v.parse::<usize>().ok();
            }
            on_change.emit(groups_of(&a, &ids));
        });
        html! {
            <label class={classes!("ed-chip", g.map(|g| format!("g{}", g % 6)))} key={r}>
                <span>{id.clone()}</span>
                <select aria-label={format!("Side of {id}")} data-field={path} {onchange}>
                    <option value="" selected={g.is_none()} title="alone">{"—"}</option>
                    { for (0..offered.max(g.map_or(0, |g| g + 1))).map(|k| html! {
                        <option value={k.to_string()} selected={g == Some(k)}>{group_label(k)}</option>
                    }) }
                </select>
            </label>
        }
    });
    html! {
        <div class={classes!("ed-partition", p.error.is_some().then_some("invalid"))} data-field={data_field(&p.field)}>
            <div class="ed-chips">{ for chips }</div>
            <div class="ed-note muted">{"Pick each server's side; a server on no side (—) stands alone."}</div>
            <FieldError field={p.field.clone()} error={p.error.clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct RerankProps {
    /// `faults[i].rerank`
    pub field: AttrValue,
    pub entry: RerankEntry,
    /// The ranking a new explicit order starts from.
    pub ranking: Vec<String>,
    pub attrs: Vec<String>,
    pub err: Option<stagger_core::ScenarioError>,
    pub on_change: Callback<RerankEntry>,
}

/// A new ranking: an explicit order moved with the arrows, or a criterion.
#[function_component(RerankPicker)]
pub fn rerank_picker(p: &RerankProps) -> Html {
    let err = p.err.as_ref();
    let (on_change, ranking) = (p.on_change.clone(), p.ranking.clone());
    let on_mode = Callback::from(move |e: Event| {
        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
        on_change.emit(match v.as_str() {
            "" => RerankEntry::Order(ranking.clone()),
            by => RerankEntry::Criterion(RerankBy { rank_by: by.to_string(), attrs: Default::default() }),
        });
    });
    let by = match &p.entry {
        RerankEntry::Criterion(b) => Some(b.rank_by.clone()),
        RerankEntry::Order(_) => None,
    };
    let body = match &p.entry {
        RerankEntry::Order(list) => {
            let n = list.len();
            let mover = |from: usize, to: usize| {
                let (list, on_change) = (list.clone(), p.on_change.clone());
                Callback::from(move |_: MouseEvent| {
                    let mut l = list.clone();
                    if from < l.len() && to < l.len() {
                        let id = l.remove(from);
                        l.insert(to, id);
                    }
                    on_change.emit(RerankEntry::Order(l));
                })
            };
            html! {
                <ol class="ed-chips ed-order">
                    { for list.iter().enumerate().map(|(k, id)| {
                        let path = format!("{}[{k}]", p.field);
                        let bad = at(err, &path).is_some();
                        html! {
                            <li class={classes!("ed-chip", bad.then_some("invalid"))} data-field={path}>
                                <button class="icon tiny" disabled={k == 0} onclick={mover(k, k.saturating_sub(1))}
                                    aria-label={format!("Rank {id} higher")}>{"◀"}</button>
                                <span><span class="muted">{format!("S{k} ")}</span>{id.clone()}</span>
                                <button class="icon tiny" disabled={k + 1 >= n} onclick={mover(k, k + 1)}
                                    aria-label={format!("Rank {id} lower")}>{"▶"}</button>
                            </li>
                        }
                    }) }
                </ol>
            }
        }
        RerankEntry::Criterion(b) if !b.attrs.is_empty() => html! {
            <span class="muted">{format!("with new attribute values for {} server(s), kept from the file", b.attrs.len())}</span>
        },
        RerankEntry::Criterion(_) => html! {},
    };
    html! {
        <div class="ed-rerank">
            <select data-field={format!("{}.rank_by", p.field)} onchange={on_mode} aria-label="New ranking"
                class={classes!(at(err, &format!("{}.rank_by", p.field)).is_some().then_some("invalid"))}>
                <option value="" selected={by.is_none()}>{"explicit order"}</option>
                { for p.attrs.iter().chain(by.iter().filter(|b| !p.attrs.contains(*b))).map(|k| html! {
                    <option value={k.clone()} selected={by.as_deref() == Some(k.as_str())}>{format!("by {k}")}</option>
                }) }
            </select>
            { body }
            <FieldError field={p.field.clone()} error={within(err, &p.field, &[])} />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn ids() -> Vec<String> {
        ["a", "b", "c", "d"].map(String::from).to_vec()
    }

    #[test]
    fn partitions_round_trip_through_an_assignment() {
        let groups = vec![vec!["c".to_string(), "a".to_string()], vec!["d".to_string()]];
        let a = assignment(&groups, &ids());
        assert_eq!(a, [Some(0), None, Some(0), Some(1)]);
        assert_eq!(groups_of(&a, &ids()), [vec!["a", "c"], vec!["d"]], "members in servers order");
        // Emptying group A renumbers: B becomes the first group.
        assert_eq!(groups_of(&[None, None, None, Some(1)], &ids()), [vec!["d"]]);
        assert!(groups_of(&[None; 4], &ids()).is_empty());
        assert_eq!(groups_of(&[Some(9)], &[]), Vec::<Vec<String>>::new(), "a short list does not panic");
    }

    #[test]
    fn group_labels() {
        assert_eq!((group_label(0), group_label(25), group_label(26)), ("A".into(), "Z".into(), "27".into()));
    }
}
