//! Number inputs.
//!
//! Numbers are typed into text inputs (`inputmode="decimal"`), not
//! `type="number"` ones: a browser hides what was typed into a number input
//! when it does not parse, and the editor must keep that text and say
//! "not a number" next to it instead of losing it or dispatching garbage.
//! A value is committed on `change` or Enter, never per keystroke, so a half
//! typed number does not re-run the simulation; the arrow keys step it.

use super::field::data_field;
use std::fmt::Display;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// A number the editor can type: what parsing refuses is said at the field.
pub trait Num: Copy + PartialEq + Display + 'static {
    fn parse_text(text: &str) -> Result<Self, &'static str>;
    /// `self` moved by `steps` increments of `step` (arrow keys).
    fn nudge(self, step: f64, steps: f64) -> Self;
}

impl Num for f64 {
    fn parse_text(text: &str) -> Result<f64, &'static str> {
        text.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or("not a number")
    }
    fn nudge(self, step: f64, steps: f64) -> f64 {
        // Round to the step's decimals so 0.1 + 0.2 shows as 0.3.
        let v = self + step * steps;
        (v * 1e6).round() / 1e6
    }
}

/// Whole numbers: a fraction or a sign gets its own message.
fn parse_whole<T: std::str::FromStr>(text: &str) -> Result<T, &'static str> {
    let t = text.trim();
    t.parse::<T>().map_err(|_| match t.parse::<f64>() {
        Ok(v) if v < 0.0 => "must not be negative",
        Ok(v) if v.fract() != 0.0 => "not a whole number",
        Ok(_) => "too large",
        Err(_) => "not a number",
    })
}

impl Num for u32 {
    fn parse_text(text: &str) -> Result<u32, &'static str> {
        parse_whole(text)
    }
    fn nudge(self, step: f64, steps: f64) -> u32 {
        (self as f64 + step.max(1.0) * steps).clamp(0.0, u32::MAX as f64) as u32
    }
}

impl Num for u64 {
    fn parse_text(text: &str) -> Result<u64, &'static str> {
        parse_whole(text)
    }
    fn nudge(self, step: f64, steps: f64) -> u64 {
        let d = (step.max(1.0) * steps.abs()) as u64;
        if steps < 0.0 {
            self.saturating_sub(d)
        } else {
            self.saturating_add(d)
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct NumProps<T: Num> {
    /// The value in the file; `None` shows the placeholder (the default).
    pub value: Option<T>,
    pub on_commit: Callback<Option<T>>,
    /// The SPEC path, as `data-field`.
    #[prop_or_default]
    pub field: AttrValue,
    /// The validation problem at this field, if any.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// Whether clearing the input commits `None` (use the default).
    #[prop_or_default]
    pub optional: bool,
    #[prop_or_default]
    pub placeholder: AttrValue,
    #[prop_or(1.0)]
    pub step: f64,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub title: AttrValue,
    #[prop_or_default]
    pub style: AttrValue,
    #[prop_or_default]
    pub label: AttrValue,
    #[prop_or_default]
    pub testid: AttrValue,
    /// Told whether the last commit was refused (`true`) or taken, for
    /// forms that must not act on a stale value (the random generator).
    #[prop_or_default]
    pub on_bad: Option<Callback<bool>>,
}

/// Text typed since the last commit, and the value it was typed over: it
/// is shown only while the file still holds that value, so a preset load
/// or an undo elsewhere replaces a stale draft.
#[derive(Clone, PartialEq)]
struct Draft<T> {
    text: String,
    base: Option<T>,
    bad: Option<&'static str>,
}

/// A number input. See the module docs for why it is a text input.
#[function_component(NumField)]
pub fn num_field<T: Num>(p: &NumProps<T>) -> Html {
    let draft = use_state(|| None::<Draft<T>>);
    let live = draft.as_ref().filter(|d| d.base == p.value);
    let shown = live.map_or_else(|| p.value.map(|v| v.to_string()).unwrap_or_default(), |d| d.text.clone());
    let local = live.and_then(|d| d.bad);

    let commit = {
        let (draft, value, optional, on_commit, on_bad) = (draft.clone(), p.value, p.optional, p.on_commit.clone(), p.on_bad.clone());
        Rc::new(move |text: String| {
            let parsed = if text.trim().is_empty() && optional { Ok(None) } else { T::parse_text(&text).map(Some) };
            if let Some(cb) = &on_bad {
                cb.emit(parsed.is_err());
            }
            match parsed {
                Ok(v) => {
                    draft.set(None);
                    if v != value {
                        on_commit.emit(v);
                    }
                }
                Err(why) => draft.set(Some(Draft { text, base: value, bad: Some(why) })),
            }
        })
    };
    let oninput = {
        let (draft, value) = (draft.clone(), p.value);
        Callback::from(move |e: InputEvent| {
            let text = e.target_unchecked_into::<HtmlInputElement>().value();
            draft.set(Some(Draft { text, base: value, bad: None }));
        })
    };
    let onchange = {
        let commit = commit.clone();
        Callback::from(move |e: Event| commit(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let onkeydown = {
        let (value, step, on_commit, draft) = (p.value, p.step, p.on_commit.clone(), draft.clone());
        Callback::from(move |e: KeyboardEvent| {
            let steps = if e.shift_key() { 10.0 } else { 1.0 };
            match e.key().as_str() {
                "Enter" => {
                    e.prevent_default();
                    commit(e.target_unchecked_into::<HtmlInputElement>().value());
                }
                "ArrowUp" | "ArrowDown" => {
                    let text = e.target_unchecked_into::<HtmlInputElement>().value();
                    let Some(v) = T::parse_text(&text).ok().or(value) else { return };
                    e.prevent_default();
                    let next = v.nudge(step, if e.key() == "ArrowUp" { steps } else { -steps });
                    draft.set(None);
                    on_commit.emit(Some(next));
                }
                _ => {}
            }
        })
    };

    let error = local.map(AttrValue::from).or_else(|| p.error.clone());
    let label = (!p.label.is_empty()).then(|| p.label.clone());
    let title = if p.title.is_empty() { error.clone() } else { Some(p.title.clone()) };
    html! {
        <>
            <input type="text" inputmode="decimal" autocomplete="off" spellcheck="false"
                class={classes!("num", p.class.clone(), error.is_some().then_some("invalid"))}
                data-field={data_field(&p.field)} data-testid={data_field(&p.testid)}
                aria-label={label} aria-invalid={error.is_some().then_some("true")}
                title={title} style={data_field(&p.style)}
                value={shown} placeholder={p.placeholder.clone()}
                {oninput} {onchange} {onkeydown} />
            if let Some(msg) = error {
                <div class="field-error" data-for={data_field(&p.field)}>{msg}</div>
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn typed_numbers_parse_or_say_why() {
        assert_eq!(f64::parse_text(" 12.5 "), Ok(12.5));
        assert_eq!(f64::parse_text("-3"), Ok(-3.0), "validation, not parsing, refuses a negative delay");
        assert_eq!(f64::parse_text("abc"), Err("not a number"));
        assert_eq!(f64::parse_text("inf"), Err("not a number"));
        assert_eq!(f64::parse_text(""), Err("not a number"));
        assert_eq!(u32::parse_text("2.5"), Err("not a whole number"));
        assert_eq!(u32::parse_text("-1"), Err("must not be negative"));
        assert_eq!(u64::parse_text("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(u32::parse_text("99999999999"), Err("too large"));
        assert_eq!(0.1f64.nudge(0.1, 2.0), 0.3);
        assert_eq!(0u32.nudge(1.0, -1.0), 0);
        assert_eq!(u64::MAX.nudge(1.0, 10.0), u64::MAX);
    }
}
