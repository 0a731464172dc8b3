//! The SVG space-time diagram of `stagger render`, checked through its
//! public API: well-formed XML, lanes in rank order, one arrow per message
//! copy in the window, the convergence marker, escaping, determinism, and
//! the arrow cap on a large group.
//!
//! Set `STAGGER_RENDER_OUT=/some/dir` to also write the rendered SVGs there
//! for a look.

use stagger_core::message::MessageKind;
use stagger_core::render::svg::{space_time, window, SvgOptions, MAX_ARROWS};
use stagger_core::sim::What;
use stagger_core::*;

const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

fn patent() -> (Scenario, Run) {
    let scenario = Scenario::from_json(PATENT).unwrap();
    let run = Sim::new(&scenario, true).run();
    (scenario, run)
}

fn save(name: &str, svg: &str) {
    if let Ok(dir) = std::env::var("STAGGER_RENDER_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(name), svg).unwrap();
    }
}

// ---------------------------------------------------------------------------
// A tiny XML reader: enough to prove well-formedness (no DTD, only the five
// predefined entities and character references) and to look inside.

#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn has_class(&self, class: &str) -> bool {
        self.attr("class").is_some_and(|c| c.split_whitespace().any(|x| x == class))
    }

    /// The text content, tags stripped.
    fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => s.push_str(t),
                Node::Element(e) => s.push_str(&e.text()),
            }
        }
        s
    }

    /// Every element in document order, this one included.
    fn walk<'a>(&'a self, out: &mut Vec<&'a Element>) {
        out.push(self);
        for c in &self.children {
            if let Node::Element(e) = c {
                e.walk(out);
            }
        }
    }

    fn all(&self) -> Vec<&Element> {
        let mut v = Vec::new();
        self.walk(&mut v);
        v
    }

    fn title(&self) -> Option<String> {
        self.children.iter().find_map(|c| match c {
            Node::Element(e) if e.name == "title" => Some(e.text()),
            _ => None,
        })
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.'
}

/// Resolves entity and character references, refusing anything else.
fn unescape(s: &str) -> Result<String, String> {
    if s.contains('<') {
        return Err(format!("raw '<' in {s:?}"));
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let end = tail.find(';').ok_or_else(|| format!("unterminated reference in {s:?}"))?;
        let name = &tail[..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ if name.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&name[2..], 16).map_err(|e| e.to_string())?).ok_or("bad char")?
            }
            _ if name.starts_with('#') => char::from_u32(name[1..].parse::<u32>().map_err(|e| e.to_string())?).ok_or("bad char")?,
            _ => return Err(format!("unknown entity &{name}; in {s:?}")),
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

struct Reader<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn skip_ws(&mut self) {
        while self.rest().starts_with(|c: char| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let r = self.rest();
        if !r.starts_with(is_name_start) {
            return Err(format!("expected a name at byte {}", self.i));
        }
        let len = r.find(|c: char| !is_name_char(c)).unwrap_or(r.len());
        self.i += len;
        Ok(r[..len].to_string())
    }

    /// Skips comments and processing instructions; false when none was there.
    fn misc(&mut self) -> Result<bool, String> {
        if self.rest().starts_with("<!--") {
            let end = self.rest().find("-->").ok_or("unterminated comment")?;
            if self.rest()[4..end].contains("--") {
                return Err("'--' inside a comment".into());
            }
            self.i += end + 3;
            Ok(true)
        } else if self.rest().starts_with("<?") {
            let end = self.rest().find("?>").ok_or("unterminated processing instruction")?;
            self.i += end + 2;
            Ok(true)
        } else if self.rest().starts_with("<!") {
            Err("DTDs and CDATA are not expected".into())
        } else {
            Ok(false)
        }
    }

    fn element(&mut self) -> Result<Element, String> {
        if !self.rest().starts_with('<') {
            return Err(format!("expected '<' at byte {}", self.i));
        }
        self.i += 1;
        let name = self.name()?;
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            let before = self.i;
            self.skip_ws();
            if self.rest().starts_with("/>") {
                self.i += 2;
                return Ok(Element { name, attrs, children: Vec::new() });
            }
            if self.rest().starts_with('>') {
                self.i += 1;
                break;
            }
            if self.i == before {
                return Err(format!("expected whitespace before an attribute of <{name}> at byte {}", self.i));
            }
            let key = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return Err(format!("attribute {key} of <{name}> has no value"));
            }
            self.i += 1;
            self.skip_ws();
            let q = self.rest().chars().next().ok_or("end of input")?;
            if q != '"' && q != '\'' {
                return Err(format!("attribute {key} of <{name}> is not quoted"));
            }
            self.i += 1;
            let end = self.rest().find(q).ok_or("unterminated attribute")?;
            let value = unescape(&self.rest()[..end])?;
            self.i += end + 1;
            if attrs.iter().any(|(k, _)| *k == key) {
                return Err(format!("duplicate attribute {key} on <{name}>"));
            }
            attrs.push((key, value));
        }
        let mut children = Vec::new();
        loop {
            if self.misc()? {
                continue;
            }
            if self.rest().starts_with("</") {
                self.i += 2;
                let close = self.name()?;
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return Err(format!("bad closing tag </{close}"));
                }
                self.i += 1;
                if close != name {
                    return Err(format!("<{name}> closed by </{close}>"));
                }
                return Ok(Element { name, attrs, children });
            }
            if self.rest().starts_with('<') {
                children.push(Node::Element(self.element()?));
                continue;
            }
            if self.rest().is_empty() {
                return Err(format!("<{name}> is never closed"));
            }
            let end = self.rest().find('<').unwrap_or(self.rest().len());
            let raw = &self.rest()[..end];
            if raw.contains('>') && raw.contains("]]>") {
                return Err("']]>' in text".into());
            }
            children.push(Node::Text(unescape(raw)?));
            self.i += end;
        }
    }
}

/// Parses a whole document: prolog, one root element, trailing misc.
fn parse_xml(s: &str) -> Result<Element, String> {
    let mut r = Reader { s, i: 0 };
    loop {
        r.skip_ws();
        if !r.misc()? {
            break;
        }
    }
    let root = r.element()?;
    loop {
        r.skip_ws();
        if !r.misc()? {
            break;
        }
    }
    if !r.rest().is_empty() {
        return Err(format!("content after the root element at byte {}", r.i));
    }
    Ok(root)
}

#[test]
fn xml_reader_rejects_malformed_documents() {
    assert!(parse_xml("<a><b></a>").is_err());
    assert!(parse_xml("<a x=1/>").is_err());
    assert!(parse_xml("<a>&foo;</a>").is_err());
    assert!(parse_xml("<a>x & y</a>").is_err());
    assert!(parse_xml("<a>1 < 2</a>").is_err());
    assert!(parse_xml("<a/><b/>").is_err());
    assert!(parse_xml("<a x=\"1\" x=\"2\"/>").is_err());
    let ok = parse_xml("<?xml version=\"1.0\"?><a t='&lt;&amp;&gt;'><!-- c --><b>x &#38; y</b></a>\n").unwrap();
    assert_eq!(ok.attr("t"), Some("<&>"));
    assert_eq!(ok.text(), "x & y");
}

// ---------------------------------------------------------------------------
// Helpers over the rendered document.

fn render(scenario: &Scenario, run: &Run, opts: &SvgOptions) -> (String, Element) {
    let svg = space_time(scenario, run, opts);
    let doc = parse_xml(&svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}"));
    (svg, doc)
}

fn lane_labels(doc: &Element) -> Vec<String> {
    doc.all().into_iter().filter(|e| e.has_class("lane-label")).map(|e| e.text()).collect()
}

fn arrows(doc: &Element, kind: Option<MessageKind>) -> Vec<&Element> {
    doc.all()
        .into_iter()
        .filter(|e| {
            e.has_class("msg")
                && match kind {
                    Some(k) => e.has_class(k.name()),
                    None => true,
                }
        })
        .collect()
}

/// Message copies whose drawing meets the window: sent by its end, and
/// arriving (or, when dropped at send, sent) at or after its start.
fn expected_in_window(run: &Run, from: Time, to: Time, kind: MessageKind) -> usize {
    run.trace
        .as_ref()
        .unwrap()
        .events
        .iter()
        .filter(|e| match &e.what {
            What::Send { msg, arrive, .. } => msg.kind() == kind && e.t <= to && arrive.unwrap_or(e.t) >= from,
            _ => false,
        })
        .count()
}

// ---------------------------------------------------------------------------
// The patent's five servers.

#[test]
fn patent_svg_is_a_well_formed_standalone_svg() {
    let (scenario, run) = patent();
    let (svg, doc) = render(&scenario, &run, &SvgOptions::default());
    save("patent-5.svg", &svg);
    assert_eq!(doc.name, "svg");
    assert_eq!(doc.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    assert_eq!(doc.attr("width"), Some("960"));
    let vb: Vec<&str> = doc.attr("viewBox").unwrap().split(' ').collect();
    assert_eq!(&vb[..3], ["0", "0", "960"]);
    assert_eq!(Some(vb[3]), doc.attr("height"));
    // Standalone: no scripts, no external references, no foreign objects.
    for e in doc.all() {
        assert!(!matches!(e.name.as_str(), "script" | "foreignObject" | "image" | "a" | "iframe"), "<{}>", e.name);
        for (k, v) in &e.attrs {
            assert!(!k.starts_with("on"), "event handler {k}");
            if k != "xmlns" {
                assert!(!v.contains("http:") && !v.contains("https:"), "external reference in {k}={v}");
            }
            if v.starts_with("url(") {
                assert!(v.starts_with("url(#"), "{k}={v}");
            }
        }
    }
    assert!(!svg.contains("@import") && !svg.contains("<script"));
    // Ids are unique, and every url(#…) points at one of them.
    let ids: Vec<&str> = doc.all().iter().filter_map(|e| e.attr("id")).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "duplicate ids");
    for e in doc.all() {
        for (_, v) in &e.attrs {
            if let Some(rest) = v.strip_prefix("url(#") {
                let target = rest.trim_end_matches(')');
                assert!(ids.contains(&target), "dangling url(#{target})");
            }
        }
    }
}

#[test]
fn patent_has_one_lane_label_per_server_in_rank_order() {
    let (scenario, run) = patent();
    let (_, doc) = render(&scenario, &run, &SvgOptions::default());
    assert_eq!(lane_labels(&doc), ["S0 ottawa", "S1 atlanta", "S2 bangalore", "S3 sydney", "S4 tokyo"]);
}

#[test]
fn lane_order_follows_the_ranking_not_the_file() {
    let text = PATENT.replace(
        r#""ranking": ["ottawa", "atlanta", "bangalore", "sydney", "tokyo"]"#,
        r#""ranking": ["tokyo", "ottawa", "sydney", "atlanta", "bangalore"]"#,
    );
    let scenario = Scenario::from_json(&text).unwrap();
    let run = Sim::new(&scenario, true).run();
    let (_, doc) = render(&scenario, &run, &SvgOptions::default());
    assert_eq!(lane_labels(&doc), ["S0 tokyo", "S1 ottawa", "S2 sydney", "S3 atlanta", "S4 bangalore"]);
}

#[test]
fn patent_auto_window_frames_the_election() {
    let (scenario, run) = patent();
    // Crash at 1900, P = 500, converged at 2570:
    // [1900 − 125, 2570 + (2570 − 1900)/4] = [1775, 2737.5].
    let (from, to) = window(&scenario, &run, &SvgOptions::default());
    assert_eq!((from, to), (Time::from_ms(1775), Time(2_737_500)));
    // Explicit ends override the automatic ones and are clamped to the run.
    let opts = SvgOptions { from: Some(Time::from_ms(100)), to: Some(Time::from_ms(99_000)), ..Default::default() };
    assert_eq!(window(&scenario, &run, &opts), (Time::from_ms(100), Time::from_ms(12_000)));
    // Without a crash the whole run is drawn.
    let calm = Scenario::from_json(&PATENT.replace(r#"[{"at_ms": 1900, "crash": "ottawa"}]"#, "[]")).unwrap();
    let calm_run = Sim::new(&calm, true).run();
    assert_eq!(window(&calm, &calm_run, &SvgOptions::default()), (Time::ZERO, Time::from_ms(12_000)));
}

#[test]
fn patent_draws_one_arrow_per_message_copy_in_the_window() {
    let (scenario, run) = patent();
    let opts = SvgOptions::default();
    let (from, to) = window(&scenario, &run, &opts);
    let (_, doc) = render(&scenario, &run, &opts);
    let mut total = 0;
    for kind in MessageKind::ALL {
        let want = expected_in_window(&run, from, to, kind);
        assert_eq!(arrows(&doc, Some(kind)).len(), want, "{kind:?}");
        total += want;
    }
    assert_eq!(arrows(&doc, None).len(), total);
    // The four inquiries of 2000 go to the crashed ottawa, and so does one
    // of atlanta's four DeclareMasters: five copies end in a ✕.
    assert_eq!(arrows(&doc, Some(MessageKind::Inquiry)).len(), 4);
    assert_eq!(arrows(&doc, Some(MessageKind::Declare)).len(), 4);
    assert_eq!(total, 8);
    let dropped: Vec<_> = arrows(&doc, None).into_iter().filter(|e| e.has_class("dropped")).collect();
    assert_eq!(dropped.len(), 5);
    assert!(dropped.iter().all(|e| e.title().unwrap().contains("receiver down")));
    // Each arrow says what it is on hover.
    let titles: Vec<String> = arrows(&doc, Some(MessageKind::Declare)).iter().map(|e| e.title().unwrap()).collect();
    assert!(titles.contains(&"DeclareMaster{idx: 1} atlanta → sydney, sent 2450.000 ms, arrives 2555.000 ms".to_string()), "{titles:?}");
    // Delivered arrows carry an arrowhead; the group that holds them names it.
    let delivered = arrows(&doc, Some(MessageKind::Declare)).into_iter().filter(|e| !e.has_class("dropped")).count();
    assert_eq!(delivered, 3);
    assert!(doc.all().iter().any(|e| e.attr("marker-end") == Some("url(#st-ah-declare)")));
    // Everything is clipped to the plot area.
    assert!(doc.all().iter().any(|e| e.name == "clipPath"));
}

#[test]
fn patent_marks_crash_convergence_timers_and_metrics() {
    let (scenario, run) = patent();
    let (_, doc) = render(&scenario, &run, &SvgOptions::default());
    let texts: Vec<String> = doc.all().iter().filter(|e| e.name == "text").map(|e| e.text()).collect();
    let has = |s: &str| texts.iter().any(|t| t.contains(s));
    assert!(has("converged 2570.000 ms"), "{texts:?}");
    assert!(has("crash ottawa 1900.000 ms"), "{texts:?}");
    // The caption.
    let caption = doc.all().into_iter().find(|e| e.has_class("caption")).unwrap().text();
    for part in ["final master atlanta", "election messages 4", "converged at 2570.000 ms", "split brain 0.000 ms"] {
        assert!(caption.contains(part), "{caption}");
    }
    // The legend names every message kind and role.
    let legend = doc.all().into_iter().find(|e| e.has_class("legend")).unwrap().text();
    for item in ["Inquiry", "InquiryReply", "DeclareMaster", "RevokeMaster", "Master", "Backup", "WaitElection", "down", "crash"] {
        assert!(legend.contains(item), "{legend}");
    }
    // One crash mark on ottawa's lane.
    let crashes: Vec<_> = doc.all().into_iter().filter(|e| e.has_class("crash")).collect();
    assert_eq!(crashes.len(), 1);
    assert_eq!(crashes[0].title().unwrap(), "ottawa crashes at 1900.000 ms");
    // The four backups' election timers, D_1..D_4 = 50, 170, 250, 305 ms,
    // all started at 2400; only atlanta's fires.
    let timers: Vec<String> = doc.all().into_iter().filter(|e| e.has_class("timer")).map(|e| e.title().unwrap()).collect();
    assert_eq!(timers.len(), 4, "{timers:?}");
    assert!(timers.contains(&"atlanta: election timer D = 50 ms, from 2400.000 ms until it fires at 2450.000 ms".to_string()));
    assert!(timers.iter().any(|t| t.starts_with("sydney: election timer D = 250 ms") && t.ends_with("cancelled at 2555.000 ms")));
    for d in ["D=170 ms", "D=250 ms", "D=305 ms"] {
        assert!(has(d), "{d}: {texts:?}");
    }
    // Role bands: atlanta turns Master inside the window.
    let roles: Vec<String> = doc.all().into_iter().filter(|e| e.has_class("role")).map(|e| e.title().unwrap()).collect();
    assert!(roles.contains(&"atlanta: Master from 2450.000 ms to 12000.000 ms".to_string()), "{roles:?}");
    assert!(roles.contains(&"ottawa: down from 1900.000 ms to 12000.000 ms".to_string()), "{roles:?}");
}

#[test]
fn rendering_is_deterministic() {
    let (scenario, run) = patent();
    let a = space_time(&scenario, &run, &SvgOptions::default());
    let b = space_time(&scenario, &run, &SvgOptions::default());
    assert_eq!(a, b);
    let (_, again) = patent();
    assert_eq!(a, space_time(&scenario, &again, &SvgOptions::default()));
}

#[test]
fn coordinates_have_at_most_two_decimals() {
    let (scenario, run) = patent();
    let (_, doc) = render(&scenario, &run, &SvgOptions { width: 777, ..Default::default() });
    for e in doc.all() {
        for (k, v) in &e.attrs {
            if matches!(k.as_str(), "class" | "id" | "font-family" | "aria-labelledby" | "role") {
                continue;
            }
            for token in v.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
                if let Some((_, frac)) = token.split_once('.') {
                    assert!(frac.len() <= 2, "<{} {k}=\"{v}\">", e.name);
                }
            }
        }
    }
}

#[test]
fn title_text_is_escaped() {
    let (scenario, run) = patent();
    let opts = SvgOptions { title: Some("a <&> \"b\" 'c'".into()), ..Default::default() };
    let (svg, doc) = render(&scenario, &run, &opts);
    assert!(!svg.contains("<&>"));
    assert!(svg.contains("a &lt;&amp;&gt; &quot;b&quot; &apos;c&apos;"));
    let title = doc.all().into_iter().find(|e| e.has_class("title")).unwrap().text();
    assert_eq!(title, "a <&> \"b\" 'c'");
}

#[test]
fn explicit_window_width_and_a_run_without_trace() {
    let (scenario, run) = patent();
    let opts = SvgOptions { from: Some(Time::from_ms(0)), to: Some(Time::from_ms(12_000)), width: 1200, ..Default::default() };
    let (svg, doc) = render(&scenario, &run, &opts);
    save("patent-5-full.svg", &svg);
    assert_eq!(doc.attr("width"), Some("1200"));
    let total: usize = MessageKind::ALL.iter().map(|k| expected_in_window(&run, opts.from.unwrap(), opts.to.unwrap(), *k)).sum();
    assert_eq!(arrows(&doc, None).len(), total);
    assert_eq!(total as u64, run.metrics.messages.total);

    let bare = Sim::new(&scenario, false).run();
    let (_, doc) = render(&scenario, &bare, &SvgOptions::default());
    assert_eq!(arrows(&doc, None).len(), 0);
    assert_eq!(lane_labels(&doc).len(), 5);
    assert!(doc.all().iter().any(|e| e.has_class("note") && e.text().contains("without a trace")));
}

#[test]
fn partition_and_recovery_are_marked() {
    let text = PATENT.replace(
        r#"[{"at_ms": 1900, "crash": "ottawa"}]"#,
        r#"[{"at_ms": 1900, "crash": "ottawa"},
            {"at_ms": 5000, "partition": [["atlanta", "bangalore"], ["sydney", "tokyo"]]},
            {"at_ms": 8000, "heal": true},
            {"at_ms": 9000, "recover": "ottawa"}]"#,
    );
    let scenario = Scenario::from_json(&text).unwrap();
    let run = Sim::new(&scenario, true).run();
    let opts = SvgOptions { from: Some(Time::ZERO), to: Some(scenario.until), ..Default::default() };
    let (svg, doc) = render(&scenario, &run, &opts);
    save("patent-5-partition.svg", &svg);
    let markers: Vec<String> = doc.all().into_iter().filter(|e| e.has_class("marker")).map(|e| e.title().unwrap()).collect();
    assert!(markers.iter().any(|t| t.starts_with("partition {atlanta, bangalore} | {sydney, tokyo}")), "{markers:?}");
    assert!(markers.iter().any(|t| t.starts_with("partition healed")), "{markers:?}");
    assert_eq!(doc.all().into_iter().filter(|e| e.has_class("recover")).count(), 1);
    // Copies cut by the partition are drawn as stubs ending in a ✕.
    let partitioned = run.trace.as_ref().unwrap().events.iter().filter(|e| matches!(e.what, What::Send { arrive: None, .. })).count();
    let stubs = arrows(&doc, None).into_iter().filter(|e| e.title().unwrap().contains("dropped at send")).count();
    assert_eq!(stubs, partitioned);
    assert!(stubs > 0);
}

// ---------------------------------------------------------------------------
// A large group.

#[test]
fn storm_of_200_stays_within_the_arrow_cap() {
    let scenario = gen::storm(200).validate().unwrap();
    let run = Sim::new(&scenario, true).run();
    let opts = SvgOptions::default();
    let (from, to) = window(&scenario, &run, &opts);
    let (svg, doc) = render(&scenario, &run, &opts);
    save("storm-200.svg", &svg);
    let drawn = arrows(&doc, None);
    assert!(!drawn.is_empty());
    assert!(drawn.len() <= MAX_ARROWS, "{} arrows", drawn.len());
    let in_window: usize = MessageKind::ALL.iter().map(|k| expected_in_window(&run, from, to, *k)).sum();
    if in_window > MAX_ARROWS {
        // Only election messages, and a note on what was left out.
        assert!(drawn.iter().all(|e| e.has_class("declare") || e.has_class("revoke")));
        let note = doc.all().into_iter().find(|e| e.has_class("note")).expect("a note on omitted arrows").text();
        assert!(note.contains("omitted"), "{note}");
    }
    // Lanes shrink: all 200 fit in a reasonable height, and they are
    // labelled in rank order, starting at the top.
    let h: f64 = doc.attr("height").unwrap().parse().unwrap();
    assert!(h < 1600.0, "height {h}");
    let labels = lane_labels(&doc);
    assert_eq!(labels[0], "S0 s000");
    assert!(labels.len() >= 50 && labels.len() <= 200);
    assert!(svg.len() < 4_000_000, "{} bytes", svg.len());
}

#[test]
fn other_shapes_render_well_formed() {
    // A small equal-timer storm (revokes), a mid-sized group whose lanes
    // shrink, a randomized timer and a narrow picture.
    let storm = gen::storm(8).validate().unwrap();
    let integral = gen::integral(50).validate().unwrap();
    let randomized = Scenario::from_json(
        &PATENT.replace(r#"{"scheme": "integral", "base_ms": 50}"#, r#"{"scheme": "randomized", "min_ms": 50, "max_ms": 300}"#),
    )
    .unwrap();
    let cases: [(&str, &Scenario, u32); 4] =
        [("storm-8", &storm, 0), ("integral-50", &integral, 0), ("randomized-5", &randomized, 0), ("patent-5-narrow", &randomized, 560)];
    for (name, scenario, width) in cases {
        let run = Sim::new(scenario, true).run();
        let opts = SvgOptions { width, ..Default::default() };
        let (svg, doc) = render(scenario, &run, &opts);
        save(&format!("{name}.svg"), &svg);
        assert_eq!(lane_labels(&doc).len().min(1), 1, "{name}");
        let (from, to) = window(scenario, &run, &opts);
        let want: usize = MessageKind::ALL.iter().map(|k| expected_in_window(&run, from, to, *k)).sum();
        assert_eq!(arrows(&doc, None).len(), want.min(MAX_ARROWS), "{name}");
    }
}

#[test]
fn plot_geometry_maps_time_to_the_drawing() {
    use stagger_core::render::svg::{plot, SvgOptions};
    let scenario = stagger_core::Scenario::from_json(include_str!("../../static/scenarios/patent-5.json")).unwrap();
    let run = stagger_core::Sim::new(&scenario, true).run();
    let p = plot(&scenario, &run, &SvgOptions::default());
    assert_eq!(p.width, 960.0);
    assert!(p.x0 > 0.0 && p.x1 < p.width);
    let mid = stagger_core::Time((p.from.0 + p.to.0) / 2);
    let f = p.fraction_of(mid);
    assert!((p.time_at(f).0 as i64 - mid.0 as i64).abs() <= 1);
    assert_eq!(p.time_at(0.0), p.from);
    assert_eq!(p.time_at(1.0), p.to);
}
