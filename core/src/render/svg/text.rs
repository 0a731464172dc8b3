//! Words and numbers as the diagram writes them: coordinates with at most
//! two decimals, escaped text, times on a run's or a live window's clock,
//! the message tooltips' wording, and rough text widths for flowing lines.

use crate::bully::BullyMsg;
use crate::message::{Message, Msg as Wire};
use crate::raft::RaftMsg;
use crate::time::Time;

use super::palette::kind_label;

/// How a drawing reads times: a run's virtual time (`1234.567 ms`), or a
/// live window's wall-clock time relative to its end (`−3.25 s`, `now`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    /// The end of a live window; `None` for a run.
    pub now: Option<u64>,
    /// The start of the window.
    pub from: u64,
}

impl Clock {
    pub fn at(&self, t: u64) -> String {
        match self.now {
            None => Time(t).to_string(),
            Some(now) if t >= now => "now".into(),
            Some(_) if t < self.from => "before the window".into(),
            Some(now) => format!("−{:.2} s", (now - t) as f64 / 1e6),
        }
    }
}

/// A rough width of `s` in a sans-serif face at `size` px.
pub(super) fn text_w(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | 't' | 'f' | 'r' | '.' | ',' | ':' | '·' | ' ' | '(' | ')' => 0.36,
            'm' | 'w' | 'M' | 'W' => 0.86,
            c if c.is_ascii_uppercase() => 0.7,
            _ => 0.6,
        })
        .sum::<f64>()
        * size
}

/// A coordinate or length with at most two decimals, no trailing zeros.
pub(super) fn num(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 || !r.is_finite() {
        return "0".into();
    }
    format!("{r}")
}

/// Escapes text and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// Milliseconds without trailing zeros: `50`, `2737.5`.
pub(super) fn ms(us: u64) -> String {
    num(us as f64 / 1000.0)
}

/// A message as the diagram's tooltips and the event wording name it.
pub(crate) fn msg_text(m: &Wire) -> String {
    match m {
        Wire::Stagger(Message::Inquiry { seq }) => format!("Inquiry{{seq: {seq}}}"),
        Wire::Stagger(Message::InquiryReply { seq }) => format!("InquiryReply{{seq: {seq}}}"),
        Wire::Stagger(Message::DeclareMaster { idx }) => format!("DeclareMaster{{idx: {idx}}}"),
        Wire::Stagger(Message::RevokeMaster { reject, idx }) => format!("RevokeMaster{{reject: {reject}, idx: {idx}}}"),
        Wire::Raft(RaftMsg::PreVoteReply { term, granted } | RaftMsg::Vote { term, granted }) => {
            format!("{}{{term: {term}, granted: {granted}}}", kind_label(m.kind()))
        }
        Wire::Raft(
            RaftMsg::PreVote { term } | RaftMsg::RequestVote { term } | RaftMsg::Heartbeat { term } | RaftMsg::HeartbeatReply { term },
        ) => format!("{}{{term: {term}}}", kind_label(m.kind())),
        Wire::Bully(BullyMsg::Election | BullyMsg::Answer | BullyMsg::Coordinator | BullyMsg::Alive) => kind_label(m.kind()).to_string(),
    }
}

/// `12345` as `12,345`.
pub(super) fn thousands(v: usize) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The separator between the parts of the subtitle and the caption.
pub(super) const SEP: &str = "  ·  ";

/// Greedy line breaking of parts `widths` wide: the parts of each line.
pub(super) fn flow(widths: &[f64], max_w: f64, sep_w: f64) -> Vec<Vec<usize>> {
    let mut lines: Vec<Vec<usize>> = vec![Vec::new()];
    let mut x = 0.0;
    for (i, &w) in widths.iter().enumerate() {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && x + sep_w + w > max_w {
            lines.push(vec![i]);
            x = w;
        } else {
            if !line.is_empty() {
                x += sep_w;
            }
            line.push(i);
            x += w;
        }
    }
    lines
}

/// Greedy word wrapping.
pub(super) fn wrap_words(text: &str, max_w: f64, size: f64) -> Vec<String> {
    let words: Vec<&str> = text.split(' ').collect();
    let widths: Vec<f64> = words.iter().map(|w| text_w(w, size)).collect();
    flow(&widths, max_w, text_w(" ", size)).into_iter().map(|line| line.iter().map(|&i| words[i]).collect::<Vec<_>>().join(" ")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_most_two_decimals() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(2.345678), "2.35");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(thousands(39_601), "39,601");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(0), "0");
    }

    #[test]
    fn lines_flow_and_words_wrap() {
        assert_eq!(flow(&[40.0, 40.0, 40.0], 100.0, 10.0), vec![vec![0, 1], vec![2]]);
        assert_eq!(wrap_words("a b", 1000.0, 10.0), vec!["a b".to_string()]);
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
    }
}
