//! Property tests: patches never panic and never half-apply, valid patches
//! keep every invariant, and conflict detection agrees with a plain
//! segment-by-segment oracle.

use json_patch::PatchOperation;
use json_patch::jsonptr::PointerBuf;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::conflict::{WrittenPaths, check_rebase};
use super::document::*;
use super::tests::fixtures::{activity, alert, document, document_value, metric, task, widget};

/// Every invariant a stored document keeps.
fn assert_invariants(document: &DashboardDocument, limits: &StateLimits) -> Result<(), TestCaseError> {
    prop_assert!(document.alerts.len() <= MAX_ALERTS);
    prop_assert!(document.activity.len() <= MAX_ACTIVITY);
    prop_assert!(document.metrics.len() <= MAX_METRICS);
    prop_assert!(document.active_tasks.len() <= MAX_ACTIVE_TASKS);
    prop_assert_eq!(&document.active_alerts, &document.derive_active_alerts());
    for (index, id) in document.layout.iter().enumerate() {
        prop_assert!(document.widgets.contains_key(id));
        prop_assert!(!document.layout[..index].contains(id));
    }
    for (id, size) in &document.widget_sizes {
        prop_assert!(document.widgets.contains_key(id), "a size outlived its widget: {}", id);
        prop_assert!((1..=MAX_WIDGET_COLUMNS).contains(&size.columns) && (1..=MAX_WIDGET_ROWS).contains(&size.rows));
    }
    prop_assert!(document.serialized_len() <= limits.max_document_bytes);
    // Round trips: through the rule checker, and through plain serde text.
    let wire = serde_json::to_value(document).map_err(|error| TestCaseError::fail(error.to_string()))?;
    prop_assert_eq!(
        &DashboardDocument::from_value(&wire).map_err(|error| TestCaseError::fail(error.to_string()))?,
        document
    );
    let text = serde_json::to_string(document).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let parsed: DashboardDocument =
        serde_json::from_str(&text).map_err(|error| TestCaseError::fail(error.to_string()))?;
    prop_assert_eq!(&parsed, document);
    Ok(())
}

fn parse_ops(ops: Vec<Value>) -> Vec<PatchOperation> {
    serde_json::from_value(Value::Array(ops)).expect("generated operations are well-formed")
}

/// Any small JSON value.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z<>/]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-zA-Z]{1,5}", inner, 0..4).prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A value that is sometimes a valid item somewhere in the document.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => any_json(),
        1 => Just(alert("x1", false)),
        1 => Just(task("x2", "running")),
        1 => Just(metric("Lead time")),
        1 => Just(activity("x3")),
        1 => Just(widget("w3", 50.0)),
        1 => Just(json!("w1")),
        1 => Just(json!({"columns": 2, "rows": 1})),
        1 => Just(json!({"question": "overview", "text": "ok", "askedAt": "2025-03-01T12:00:00Z"})),
    ]
}

/// A pointer from a vocabulary that mixes writable, read-only, forbidden,
/// existing, missing and array-index segments.
fn any_path() -> impl Strategy<Value = String> {
    // Weighted so most patches get past the path checks and reach the document rules.
    let first = prop_oneof![
        4 => Just("widgets"),
        4 => Just("layout"),
        4 => Just("activeProject"),
        4 => Just("activeTasks"),
        4 => Just("alerts"),
        4 => Just("metrics"),
        4 => Just("activity"),
        4 => Just("preferences"),
        3 => Just("widgetSizes"),
        2 => Just("lastAnswer"),
        1 => Just("activeAlerts"),
        1 => Just("schemaVersion"),
        1 => Just("__proto__"),
    ];
    let rest = prop_oneof![
        3 => Just("w1"),
        3 => Just("w2"),
        2 => Just("w3"),
        3 => Just("0"),
        3 => Just("1"),
        1 => Just("7"),
        3 => Just("-"),
        2 => Just("data"),
        2 => Just("progress"),
        2 => Just("dismissed"),
        2 => Just("theme"),
        2 => Just("columns"),
        1 => Just("text"),
        1 => Just("constructor"),
        1 => Just("a~1b"),
    ];
    prop_oneof![
        1 => Just(String::new()),
        40 => (first, vec(rest, 0..4)).prop_map(|(first, rest)| {
            std::iter::once(first).chain(rest).map(|segment| format!("/{segment}")).collect()
        }),
    ]
}

fn any_op() -> impl Strategy<Value = Value> {
    (0..6u8, any_path(), any_path(), any_value()).prop_map(|(kind, path, from, value)| match kind {
        0 => json!({"op": "add", "path": path, "value": value}),
        1 => json!({"op": "remove", "path": path}),
        2 => json!({"op": "replace", "path": path, "value": value}),
        3 => json!({"op": "move", "from": from, "path": path}),
        4 => json!({"op": "copy", "from": from, "path": path}),
        _ => json!({"op": "test", "path": path, "value": value}),
    })
}

/// One step of a patch that is valid by construction; `n` makes ids unique.
#[derive(Debug, Clone)]
enum Action {
    AppendAlert {
        dismissed: bool,
    },
    DismissAlert {
        index: usize,
        dismissed: bool,
    },
    AppendActivity,
    AppendMetric,
    AppendTask {
        status: &'static str,
    },
    AddWidget {
        progress: u8,
    },
    SetProgress {
        widget: &'static str,
        progress: u8,
    },
    SetTheme {
        theme: &'static str,
    },
    SetActiveProject {
        project: Option<&'static str>,
    },
    /// Sizes the widget at this position of the layout (modulo its length).
    SizeWidget {
        pick: usize,
        columns: u8,
        rows: u8,
    },
    /// Removes one of the widgets earlier actions added, from the layout and `widgets`.
    RemoveWidget {
        pick: usize,
    },
    SetLastAnswer {
        text_len: usize,
    },
}

fn any_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        any::<bool>().prop_map(|dismissed| Action::AppendAlert { dismissed }),
        (0..3usize, any::<bool>()).prop_map(|(index, dismissed)| Action::DismissAlert { index, dismissed }),
        Just(Action::AppendActivity),
        Just(Action::AppendMetric),
        prop::sample::select(vec!["pending", "running", "completed", "failed", "cancelled"])
            .prop_map(|status| Action::AppendTask { status }),
        (0..=100u8).prop_map(|progress| Action::AddWidget { progress }),
        (prop::sample::select(vec!["w1", "w2"]), 0..=100u8)
            .prop_map(|(widget, progress)| Action::SetProgress { widget, progress }),
        prop::sample::select(vec!["light", "dark", "system"]).prop_map(|theme| Action::SetTheme { theme }),
        prop::option::of(Just("p-9")).prop_map(|project| Action::SetActiveProject { project }),
        (0..8usize, 1..=MAX_WIDGET_COLUMNS, 1..=MAX_WIDGET_ROWS).prop_map(|(pick, columns, rows)| Action::SizeWidget {
            pick,
            columns,
            rows
        }),
        (0..8usize).prop_map(|pick| Action::RemoveWidget { pick }),
        (0..=MAX_ANSWER_TEXT_CHARS).prop_map(|text_len| Action::SetLastAnswer { text_len }),
    ]
}

/// The operations of one action; `layout` is the layout as the earlier actions left it.
fn action_ops(n: usize, action: &Action, layout: &mut Vec<String>) -> Vec<Value> {
    match action {
        Action::AppendAlert { dismissed } => {
            vec![json!({"op": "add", "path": "/alerts/-", "value": alert(&format!("g{n}"), *dismissed)})]
        }
        Action::DismissAlert { index, dismissed } => {
            vec![json!({"op": "replace", "path": format!("/alerts/{index}/dismissed"), "value": dismissed})]
        }
        Action::AppendActivity => {
            vec![json!({"op": "add", "path": "/activity/-", "value": activity(&format!("g{n}"))})]
        }
        Action::AppendMetric => vec![json!({"op": "add", "path": "/metrics/-", "value": metric(&format!("g{n}"))})],
        Action::AppendTask { status } => {
            vec![json!({"op": "add", "path": "/activeTasks/-", "value": task(&format!("g{n}"), status)})]
        }
        Action::AddWidget { progress } => {
            layout.push(format!("g{n}"));
            vec![
                json!({"op": "add", "path": format!("/widgets/g{n}"), "value": widget(&format!("g{n}"), f64::from(*progress))}),
                json!({"op": "add", "path": "/layout/-", "value": format!("g{n}")}),
            ]
        }
        Action::SizeWidget { pick, columns, rows } => {
            // With no widget left, a size for one that is gone: dropped, never refused.
            let id = if layout.is_empty() { "gone".to_owned() } else { layout[pick % layout.len()].clone() };
            vec![
                json!({"op": "add", "path": format!("/widgetSizes/{id}"), "value": {"columns": columns, "rows": rows}}),
            ]
        }
        Action::RemoveWidget { pick } => {
            // Only widgets added by earlier actions: `SetProgress` relies on the fixture's.
            let added: Vec<usize> = (0..layout.len()).filter(|&index| layout[index].starts_with('g')).collect();
            if added.is_empty() {
                return Vec::new();
            }
            let index = added[pick % added.len()];
            let id = layout.remove(index);
            vec![
                json!({"op": "remove", "path": format!("/layout/{index}")}),
                json!({"op": "remove", "path": format!("/widgets/{id}")}),
            ]
        }
        Action::SetLastAnswer { text_len } => vec![json!({"op": "add", "path": "/lastAnswer", "value": {
            "question": format!("question {n}"), "text": "t".repeat(*text_len), "askedAt": "2025-03-01T12:00:00Z"}})],
        Action::SetProgress { widget, progress } => {
            vec![json!({"op": "replace", "path": format!("/widgets/{widget}/data/progress"), "value": progress})]
        }
        Action::SetTheme { theme } => vec![json!({"op": "replace", "path": "/preferences/theme", "value": theme})],
        Action::SetActiveProject { project } => {
            vec![json!({"op": "replace", "path": "/activeProject", "value": project})]
        }
    }
}

/// The fixture with every feed two items short of its bound, so patches cross it.
fn nearly_full_document() -> DashboardDocument {
    let mut value = document_value();
    let statuses = ["running", "completed", "failed", "pending"];
    value["alerts"] = Value::Array((0..MAX_ALERTS - 2).map(|i| alert(&format!("a{i}"), i % 3 == 0)).collect());
    value["activity"] = Value::Array((0..MAX_ACTIVITY - 2).map(|i| activity(&format!("e{i}"))).collect());
    value["metrics"] = Value::Array((0..MAX_METRICS - 2).map(|i| metric(&format!("m{i}"))).collect());
    value["activeTasks"] =
        Value::Array((0..MAX_ACTIVE_TASKS - 2).map(|i| task(&format!("t{i}"), statuses[i % 4])).collect());
    super::patch::replace_document(&value, &StateLimits::default()).expect("the fixture is valid")
}

/// `/widgets` plus up to three segments, from a vocabulary where `a` and `ab` share a prefix.
fn widget_path() -> impl Strategy<Value = Vec<&'static str>> {
    vec(prop::sample::select(vec!["a", "ab", "b", "0", "1"]), 0..4)
}

fn pointer(segments: &[&str]) -> String {
    std::iter::once("widgets").chain(segments.iter().copied()).map(|segment| format!("/{segment}")).collect()
}

/// The oracle: one list of segments is a prefix of the other.
fn overlaps(left: &[&str], right: &[&str]) -> bool {
    let shorter = left.len().min(right.len());
    left[..shorter] == right[..shorter]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_patches_never_panic_or_half_apply(ops in vec(any_op(), 0..6)) {
        let limits = StateLimits::default();
        let document = document();
        let before = document.clone();
        let result = super::tests::apply_ops(&document, parse_ops(ops), &limits);
        prop_assert_eq!(&document, &before);
        if let Ok(applied) = result {
            assert_invariants(&applied.document, &limits)?;
        }
    }
}

/// `apply_patch_to_checked` works on what a patch names; the whole document must give the same.
fn assert_same_as_whole(document: &DashboardDocument, ops: Vec<PatchOperation>) -> Result<(), TestCaseError> {
    let limits = StateLimits::default();
    let Ok(patch) = super::patch::CheckedPatch::check(ops, &limits) else { return Ok(()) };
    let scoped = super::patch::apply_patch_to_checked(document, &patch, &limits);
    let whole = super::patch::apply_patch(document, &patch, &limits);
    prop_assert_eq!(scoped, whole, "{:?}", patch.ops());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn patches_applied_to_their_members_match_the_whole_document(
        ops in vec(any_op(), 0..6),
        nearly_full in any::<bool>(),
    ) {
        let document = if nearly_full { nearly_full_document() } else { document() };
        assert_same_as_whole(&document, parse_ops(ops))?;
    }

    #[test]
    fn valid_patches_applied_to_their_members_match_the_whole_document(
        actions in vec(any_action(), 0..12),
        nearly_full in any::<bool>(),
    ) {
        let document = if nearly_full { nearly_full_document() } else { document() };
        let mut layout = document.layout.clone();
        let ops: Vec<Value> =
            actions.iter().enumerate().flat_map(|(n, action)| action_ops(n, action, &mut layout)).collect();
        assert_same_as_whole(&document, parse_ops(ops))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn valid_patches_keep_every_invariant(actions in vec(any_action(), 0..40), nearly_full in any::<bool>()) {
        let limits = StateLimits::default();
        let document = if nearly_full { nearly_full_document() } else { document() };
        let mut layout = document.layout.clone();
        let ops: Vec<Value> =
            actions.iter().enumerate().flat_map(|(n, action)| action_ops(n, action, &mut layout)).collect();
        let applied = super::tests::apply_ops(&document, parse_ops(ops.clone()), &limits);
        prop_assert!(applied.is_ok(), "{:?}", applied.err());
        if let Ok(applied) = applied {
            assert_invariants(&applied.document, &limits)?;
            // A replica applying the committed ops to its copy holds exactly the stored document
            // (trims and derived values included), which is what every sync client relies on.
            let mut replica = serde_json::to_value(&document).unwrap();
            let committed: Vec<PatchOperation> =
                serde_json::from_value(applied.committed_ops(&Value::Array(ops))).unwrap();
            json_patch::patch(&mut replica, &committed).unwrap();
            prop_assert_eq!(replica, serde_json::to_value(&applied.document).unwrap());
            prop_assert_eq!(applied.json.len(), applied.document.serialized_len());
            // Normalizing again changes nothing: the stored document is a fixed point.
            let mut again = applied.document.clone();
            prop_assert_eq!(again.normalize(), Trimmed::default());
            prop_assert_eq!(again, applied.document);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn conflicts_are_exactly_the_overlapping_paths(
        written in vec(widget_path(), 1..4),
        path in widget_path(),
        remove in any::<bool>(),
    ) {
        let mut paths = WrittenPaths::new();
        for segments in &written {
            paths.insert(PointerBuf::parse(pointer(segments)).map_err(|error| TestCaseError::fail(error.to_string()))?);
        }
        let op = if remove {
            json!({"op": "remove", "path": pointer(&path)})
        } else {
            json!({"op": "replace", "path": pointer(&path), "value": 1})
        };
        // A test on the same path never conflicts, whatever was written.
        let guard = json!({"op": "test", "path": pointer(&path), "value": 1});
        let ops = parse_ops(vec![guard, op]);
        let expected = written.iter().any(|segments| overlaps(segments, &path));
        let history = [paths];
        let result = check_rebase(&ops, Some(&history));
        prop_assert_eq!(result.is_err(), expected, "{:?} vs {:?}: {:?}", path, written, result);
        // With the history gone, the test in front is what lets it through.
        prop_assert!(check_rebase(&ops, None).is_ok());
        prop_assert!(check_rebase(&ops[1..], None).is_err());
    }

    #[test]
    fn a_written_path_its_children_and_its_parents_always_conflict(
        written in widget_path(),
        child in vec(prop::sample::select(vec!["x", "0", "-"]), 1..3),
        parent_len in 0..4usize,
    ) {
        let mut paths = WrittenPaths::new();
        paths.insert(PointerBuf::parse(pointer(&written)).map_err(|error| TestCaseError::fail(error.to_string()))?);
        let history = [paths];
        let extended: Vec<&str> = written.iter().copied().chain(child).collect();
        let parent = &written[..parent_len.min(written.len())];
        for segments in [written.as_slice(), extended.as_slice(), parent] {
            let ops = parse_ops(vec![json!({"op": "add", "path": pointer(segments), "value": 1})]);
            prop_assert!(check_rebase(&ops, Some(&history)).is_err(), "{:?} vs {:?}", segments, written);
        }
    }
}
