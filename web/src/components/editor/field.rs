//! The editor's shared inputs and the rule that puts a validation error at
//! its field: an input shows the error whose path is exactly its own
//! `data-field`; a container (a list, a section) shows an error inside its
//! path that none of its inputs shows. Number inputs are in [`super::number`].

pub use super::number::NumField;
use stagger_core::scenario::ScenarioWarning;
use stagger_core::ScenarioError;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The problem text when the error is at exactly `path`.
pub fn at(err: Option<&ScenarioError>, path: &str) -> Option<AttrValue> {
    err.filter(|e| e.field == path).map(|e| AttrValue::from(e.problem.to_string()))
}

/// The warnings at exactly `path`, one per line: the scenario runs, but
/// its run would mislead (see [`stagger_core::scenario::ScenarioWarning`]).
pub fn warn_at(warnings: &[ScenarioWarning], path: &str) -> Option<AttrValue> {
    let lines: Vec<String> = warnings.iter().filter(|w| w.field == path).map(|w| w.concern.to_string()).collect();
    (!lines.is_empty()).then(|| AttrValue::from(lines.join("\n")))
}

/// Whether `field` is `path` or lies inside it (`path[…]` or `path.…`).
pub fn is_within(field: &str, path: &str) -> bool {
    field.strip_prefix(path).is_some_and(|rest| rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'))
}

/// The problem text for a container: an error at `path` or inside it,
/// unless it is at or inside one of the `shown` paths (the inputs and
/// inner containers that show their own errors).
/// The text names the field when it is not the container itself, as the
/// CLI does (`delays_ms[2]: …`), since no input points at it.
pub fn within(err: Option<&ScenarioError>, path: &str, shown: &[String]) -> Option<AttrValue> {
    err.filter(|e| is_within(&e.field, path) && !shown.iter().any(|l| is_within(&e.field, l)))
        .map(|e| AttrValue::from(if e.field == path { e.problem.to_string() } else { format!("{}: {}", e.field, e.problem) }))
}

/// `data-field` is left out rather than empty for inputs outside the file.
pub fn data_field(path: &AttrValue) -> Option<AttrValue> {
    (!path.is_empty()).then(|| path.clone())
}

#[derive(Properties, PartialEq)]
pub struct TextProps {
    pub value: AttrValue,
    pub on_commit: Callback<String>,
    #[prop_or_default]
    pub field: AttrValue,
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// A check made before committing (an id already taken, say): its
    /// message is shown at the field and nothing is dispatched.
    #[prop_or_default]
    pub check: Option<Callback<String, Option<String>>>,
    #[prop_or_default]
    pub placeholder: AttrValue,
    #[prop_or_default]
    pub label: AttrValue,
    /// A `<textarea>` of this many rows instead of a one-line input;
    /// Enter then makes a new line rather than committing.
    #[prop_or_default]
    pub rows: Option<u32>,
}

/// Text typed since the last commit, over which value, and why it was
/// refused, if it was. Every keystroke is kept, so a re-render from
/// elsewhere (playback ticking) never overwrites what is being typed.
#[derive(Clone, PartialEq)]
struct TextDraft {
    text: String,
    base: AttrValue,
    refused: Option<String>,
}

/// The text of the `<input>` or `<textarea>` an event came from.
fn text_of(e: &Event) -> String {
    let target = e.target();
    if let Some(t) = target.clone().and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok()) {
        return t.value();
    }
    target.and_then(|t| t.dyn_into::<HtmlInputElement>().ok()).map(|t| t.value()).unwrap_or_default()
}

/// A text input, committed on change or Enter.
#[function_component(TextField)]
pub fn text_field(p: &TextProps) -> Html {
    let draft = use_state(|| None::<TextDraft>);
    let live = draft.as_ref().filter(|d| d.base == p.value);
    let commit = {
        let (draft, value, check, on_commit) = (draft.clone(), p.value.clone(), p.check.clone(), p.on_commit.clone());
        move |text: String| match check.as_ref().and_then(|c| c.emit(text.clone())) {
            Some(why) => draft.set(Some(TextDraft { text, base: value.clone(), refused: Some(why) })),
            None => {
                draft.set(None);
                if text != value.as_str() {
                    on_commit.emit(text);
                }
            }
        }
    };
    let oninput = {
        let (draft, value) = (draft.clone(), p.value.clone());
        Callback::from(move |e: InputEvent| {
            let text = text_of(&e);
            draft.set(Some(TextDraft { text, base: value.clone(), refused: None }));
        })
    };
    let onchange = {
        let commit = commit.clone();
        Callback::from(move |e: Event| commit(text_of(&e)))
    };
    let multiline = p.rows.is_some();
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" && !multiline {
            commit(text_of(&e));
        }
    });
    let error = live.and_then(|d| d.refused.clone()).map(AttrValue::from).or_else(|| p.error.clone());
    let shown = live.map_or_else(|| p.value.clone(), |d| AttrValue::from(d.text.clone()));
    let class = classes!(error.is_some().then_some("invalid"));
    let (field, label, invalid) = (data_field(&p.field), data_field(&p.label), error.is_some().then_some("true"));
    html! {
        <>
            if let Some(rows) = p.rows {
                <textarea rows={rows.to_string()} {class} data-field={field} aria-label={label} aria-invalid={invalid}
                    value={shown} placeholder={p.placeholder.clone()} {oninput} {onchange} />
            } else {
                <input type="text" spellcheck="false" autocomplete="off" {class} data-field={field} aria-label={label}
                    aria-invalid={invalid} value={shown} placeholder={p.placeholder.clone()} {oninput} {onchange} {onkeydown} />
            }
            if let Some(msg) = error {
                <div class="field-error" data-for={data_field(&p.field)}>{msg}</div>
            }
        </>
    }
}

/// An error with no input of its own (a list, a whole section).
#[derive(Properties, PartialEq)]
pub struct ErrorProps {
    pub error: Option<AttrValue>,
    #[prop_or_default]
    pub field: AttrValue,
}

#[function_component(FieldError)]
pub fn field_error(p: &ErrorProps) -> Html {
    match &p.error {
        Some(msg) => html! { <div class="field-error" data-for={data_field(&p.field)} role="alert">{msg.clone()}</div> },
        None => html! {},
    }
}

/// A warning at a field: styled apart from errors, since the scenario
/// still runs.
#[derive(Properties, PartialEq)]
pub struct WarningProps {
    pub warning: Option<AttrValue>,
    #[prop_or_default]
    pub field: AttrValue,
}

#[function_component(FieldWarning)]
pub fn field_warning(p: &WarningProps) -> Html {
    match &p.warning {
        Some(msg) => html! { <div class="field-warning" data-for={data_field(&p.field)} role="status">{msg.clone()}</div> },
        None => html! {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagger_core::scenario::Problem;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn errors_match_exactly_or_inside_a_container() {
        let e = ScenarioError::new("faults[1].partition[0][2]", Problem::Duplicate("x".into()));
        assert!(at(Some(&e), "faults[1].partition[0][2]").is_some());
        assert!(at(Some(&e), "faults[1].partition").is_none());
        assert_eq!(within(Some(&e), "faults[1].partition", &[]).unwrap(), "faults[1].partition[0][2]: 'x' is listed twice");
        let at_container = ScenarioError::new("ranking", Problem::Omitted("x".into()));
        assert_eq!(within(Some(&at_container), "ranking", &[]).unwrap(), "the ranking omits server 'x'");
        assert!(within(Some(&e), "faults[1]", &[]).is_some());
        assert!(within(Some(&e), "faults[1]", &["faults[1].partition[0][2]".into()]).is_none());
        assert!(within(Some(&e), "faults", &["faults[1]".into()]).is_none(), "the row shows it");
        assert!(within(Some(&e), "faults", &["faults[0]".into()]).is_some());
        assert!(!is_within("faults[10].crash", "faults[1]"), "an index is not a prefix of a longer one");
        assert!(!is_within("timer.base_ms", "time"));
        assert!(within(None, "timer", &[]).is_none());
    }

    #[test]
    fn warnings_show_at_their_field_only() {
        let mut f = crate::presets::default_file();
        f.until_ms = Some(1000.0);
        let w = f.validate().unwrap().warnings();
        assert_eq!(warn_at(&w, "until_ms").unwrap(), "the run ends at 1000 ms, before the crash of ottawa at 1900 ms: never applied");
        assert!(warn_at(&w, "detection.timeout_ms").is_none());
        f.until_ms = None;
        f.delays_ms[1][2] = 300.0;
        f.delays_ms[2][1] = 300.0;
        let w = f.validate().unwrap().warnings();
        let shown = warn_at(&w, "detection.timeout_ms").unwrap();
        assert!(shown.starts_with("τ = 400 ms is shorter than the round trip from bangalore to its master atlanta"), "{shown}");
        assert!(warn_at(&w, "until_ms").is_none());
    }
}
