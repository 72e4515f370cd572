//! Where an answer's widgets go on the user's dashboard, keeping the layout the
//! user made: pure planning, from the document as read to the patch to send.
//!
//! - **An ask** makes `widgets` exactly this answer's widgets (an earlier
//!   answer's are removed, so the map stays as small as one answer), keeps the
//!   user's order of the ids still in the answer and appends the new ones in
//!   answer order.
//! - **A live refresh** (the data changed, nobody asked) replaces the content
//!   of the answer's widgets the layout still shows, appends the widgets that
//!   are new since the previous answer (a new project), drops those the answer
//!   no longer has, and never brings back a widget the user removed from the
//!   layout since the last ask: it was in the previous answer, so it is not
//!   new.
//!
//! Both set `lastAnswer`. The patch starts with a `test` of the layout as read:
//! the plan depends on it, so if the user moves a widget in between, the patch
//! fails as a whole and the gateway reads again and plans again. Only what
//! changed is written (a widget whose content is the same is left alone), so a
//! tab re-renders only what moved; an answer too large for one patch's
//! operation limit replaces `widgets` in one operation instead.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

/// How an answer is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement<'a> {
    /// A question asked now.
    Ask,
    /// A question asked again because the data changed; `previous` holds the
    /// widget ids of the answer placed before this one.
    Refresh { previous: &'a [String] },
}

/// A patch for the dashboard, or nothing when the answer is already there.
pub(crate) fn plan(
    document: &Value,
    answer: &[Value],
    last_answer: &Value,
    placement: Placement<'_>,
    max_ops: usize,
) -> Option<Value> {
    let layout: Vec<String> = document
        .get("layout")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let empty = Map::new();
    let widgets = document.get("widgets").and_then(Value::as_object).unwrap_or(&empty);
    let answered = by_id(answer);
    let (target_widgets, target_layout) = match placement {
        Placement::Ask => ask_target(&layout, &answered),
        Placement::Refresh { previous } => refresh_target(&layout, widgets, &answered, previous),
    };
    let mut changes = Vec::new();
    for id in widgets.keys().filter(|id| !target_widgets.contains_key(*id)) {
        changes.push(json!({"op": "remove", "path": widget_path(id)}));
    }
    for (id, widget) in &target_widgets {
        if widgets.get(id) != Some(*widget) {
            changes.push(json!({"op": "add", "path": widget_path(id), "value": widget}));
        }
    }
    // Past the operation limit, one operation replaces the whole map.
    let room = max_ops.saturating_sub(3);
    if changes.len() > room {
        changes = vec![json!({"op": "add", "path": "/widgets", "value": target_widgets})];
    }
    if target_layout != layout {
        changes.push(json!({"op": "add", "path": "/layout", "value": target_layout}));
    }
    if document.get("lastAnswer") != Some(last_answer) {
        changes.push(json!({"op": "add", "path": "/lastAnswer", "value": last_answer}));
    }
    if changes.is_empty() {
        return None;
    }
    let mut ops = vec![json!({"op": "test", "path": "/layout", "value": layout})];
    ops.extend(changes);
    Some(Value::Array(ops))
}

/// The ids of an answer's widgets, in answer order, each once.
pub(crate) fn answer_ids(answer: &[Value]) -> Vec<String> {
    by_id(answer).into_iter().map(|(id, _)| id.to_owned()).collect()
}

/// The answer's widgets by id, in answer order; a repeated id keeps its first widget.
fn by_id(answer: &[Value]) -> Vec<(&str, &Value)> {
    let mut seen = HashSet::new();
    answer
        .iter()
        .filter_map(|widget| widget.get("id").and_then(Value::as_str).map(|id| (id, widget)))
        .filter(|(id, _)| seen.insert(*id))
        .collect()
}

/// An ask: the answer's widgets; the user's order for ids they already have, then the new ones.
fn ask_target<'a>(layout: &[String], answered: &[(&'a str, &'a Value)]) -> (BTreeMap<String, &'a Value>, Vec<String>) {
    let ids: HashSet<&str> = answered.iter().map(|(id, _)| *id).collect();
    let mut target_layout: Vec<String> = layout.iter().filter(|id| ids.contains(id.as_str())).cloned().collect();
    let kept: HashSet<String> = target_layout.iter().cloned().collect();
    target_layout.extend(answered.iter().map(|(id, _)| (*id).to_owned()).filter(|id| !kept.contains(id)));
    let target_widgets = answered.iter().map(|(id, widget)| ((*id).to_owned(), *widget)).collect();
    (target_widgets, target_layout)
}

/// A refresh: see the module documentation.
fn refresh_target<'a>(
    layout: &[String],
    widgets: &'a Map<String, Value>,
    answered: &[(&'a str, &'a Value)],
    previous: &[String],
) -> (BTreeMap<String, &'a Value>, Vec<String>) {
    let ids: HashSet<&str> = answered.iter().map(|(id, _)| *id).collect();
    let previous: HashSet<&str> = previous.iter().map(String::as_str).collect();
    // Widgets of the previous answer that this one no longer has are gone.
    let vanished = |id: &str| previous.contains(id) && !ids.contains(id);
    let shown: HashSet<&str> = layout.iter().map(String::as_str).collect();
    let mut target_widgets: BTreeMap<String, &Value> =
        widgets.iter().filter(|(id, _)| !vanished(id)).map(|(id, widget)| (id.clone(), widget)).collect();
    let mut target_layout: Vec<String> = layout.iter().filter(|id| !vanished(id)).cloned().collect();
    for (id, widget) in answered {
        if shown.contains(id) {
            target_widgets.insert((*id).to_owned(), widget);
        } else if !previous.contains(id) {
            target_widgets.insert((*id).to_owned(), widget);
            target_layout.push((*id).to_owned());
        }
        // Else the user removed it from the layout since the ask: it stays away.
    }
    (target_widgets, target_layout)
}

/// `/widgets/<id>` with the id escaped as a JSON Pointer segment.
fn widget_path(id: &str) -> String {
    format!("/widgets/{}", id.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget(id: &str, value: u32) -> Value {
        json!({"type": "Metrics", "id": id, "data": {"metrics": [{"label": "n", "value": value}]}})
    }

    fn answer_of(ids: &[(&str, u32)]) -> Vec<Value> {
        ids.iter().map(|(id, value)| widget(id, *value)).collect()
    }

    fn document(layout: &[&str], widgets: &[(&str, u32)]) -> Value {
        let widgets: Map<String, Value> =
            widgets.iter().map(|(id, value)| ((*id).to_owned(), widget(id, *value))).collect();
        json!({"schemaVersion": 2, "widgets": widgets, "layout": layout})
    }

    /// Applies a planned patch the way the dashboard would (without its rules).
    fn applied(document: &Value, ops: &Value) -> Value {
        let mut copy = document.clone();
        let ops: json_patch::Patch = serde_json::from_value(ops.clone()).unwrap();
        json_patch::patch(&mut copy, &ops).unwrap();
        copy
    }

    fn layout_of(document: &Value) -> Vec<&str> {
        document["layout"].as_array().unwrap().iter().filter_map(Value::as_str).collect()
    }

    fn widget_ids(document: &Value) -> Vec<&str> {
        document["widgets"].as_object().unwrap().keys().map(String::as_str).collect()
    }

    const ANSWER: &str = "answer";

    #[test]
    fn an_ask_keeps_the_users_order_drops_earlier_answers_and_appends_new_ids() {
        let before = document(&["c", "old", "a"], &[("a", 1), ("c", 1), ("old", 1)]);
        let answer = answer_of(&[("a", 2), ("b", 1), ("c", 1), ("d", 1)]);
        let ops = plan(&before, &answer, &json!(ANSWER), Placement::Ask, 100).unwrap();
        assert_eq!(ops[0], json!({"op": "test", "path": "/layout", "value": ["c", "old", "a"]}));
        let after = applied(&before, &ops);
        assert_eq!(layout_of(&after), ["c", "a", "b", "d"]);
        assert_eq!(widget_ids(&after), ["a", "b", "c", "d"], "the earlier answer's widget is gone");
        assert_eq!(after["widgets"]["a"], widget("a", 2));
        assert_eq!(after["lastAnswer"], ANSWER);
        // Unchanged widgets are not rewritten.
        assert!(!ops.as_array().unwrap().iter().any(|op| op["path"] == "/widgets/c"), "{ops}");
        // The same answer again changes nothing.
        assert_eq!(plan(&after, &answer, &json!(ANSWER), Placement::Ask, 100), None);
    }

    #[test]
    fn a_first_ask_on_an_empty_dashboard_lays_out_the_answer_in_order() {
        let empty = json!({"schemaVersion": 2, "widgets": {}, "layout": []});
        let answer = answer_of(&[("x", 1), ("y", 1), ("x", 9)]);
        let after = applied(&empty, &plan(&empty, &answer, &json!(ANSWER), Placement::Ask, 100).unwrap());
        assert_eq!(layout_of(&after), ["x", "y"], "a repeated id is placed once");
        assert_eq!(after["widgets"]["x"], widget("x", 1), "the first widget of an id wins");
        assert_eq!(answer_ids(&answer), ["x", "y"]);
    }

    #[test]
    fn a_refresh_updates_shown_widgets_appends_new_ones_and_never_revives_removed_ones() {
        let previous: Vec<String> = ["a", "b", "c", "gone"].map(String::from).to_vec();
        // The user reordered, removed `b` from the layout (its widget may linger) and sized nothing.
        let before = document(&["c", "gone", "a"], &[("a", 1), ("b", 1), ("c", 1), ("gone", 1)]);
        let answer = answer_of(&[("a", 5), ("b", 5), ("c", 5), ("new", 1)]);
        let placement = Placement::Refresh { previous: &previous };
        let after = applied(&before, &plan(&before, &answer, &json!(ANSWER), placement, 100).unwrap());
        assert_eq!(layout_of(&after), ["c", "a", "new"], "order kept, vanished dropped, new appended");
        assert_eq!(after["widgets"]["a"], widget("a", 5));
        assert_eq!(after["widgets"]["c"], widget("c", 5));
        assert_eq!(after["widgets"]["b"], widget("b", 1), "a removed widget is not updated");
        assert!(after["widgets"].get("gone").is_none(), "a widget the answer no longer has is dropped");
        // Another refresh (the new answer is now the previous one) leaves b out still.
        let previous = answer_ids(&answer);
        let again = Placement::Refresh { previous: &previous };
        let answer = answer_of(&[("a", 6), ("b", 6), ("c", 6), ("new", 2)]);
        let later = applied(&after, &plan(&after, &answer, &json!(ANSWER), again, 100).unwrap());
        assert_eq!(layout_of(&later), ["c", "a", "new"]);
        assert_eq!(later["widgets"]["new"], widget("new", 2));
        // An ask brings b back, at the end.
        let asked = applied(&later, &plan(&later, &answer, &json!(ANSWER), Placement::Ask, 100).unwrap());
        assert_eq!(layout_of(&asked), ["c", "a", "new", "b"]);
    }

    #[test]
    fn a_refresh_leaves_widgets_of_others_alone() {
        let previous = vec!["a".to_owned()];
        let before = document(&["mine", "a"], &[("a", 1), ("mine", 1)]);
        let answer = answer_of(&[("a", 2)]);
        let placement = Placement::Refresh { previous: &previous };
        let after = applied(&before, &plan(&before, &answer, &json!(ANSWER), placement, 100).unwrap());
        assert_eq!(layout_of(&after), ["mine", "a"]);
        assert_eq!(after["widgets"]["mine"], widget("mine", 1));
    }

    #[test]
    fn an_answer_over_the_operation_limit_is_one_replacement_of_the_widgets() {
        let before = document(&["z"], &[("z", 1)]);
        let many: Vec<(String, u32)> = (0..20).map(|n| (format!("w{n}"), n)).collect();
        let answer: Vec<Value> = many.iter().map(|(id, value)| widget(id, *value)).collect();
        let ops = plan(&before, &answer, &json!(ANSWER), Placement::Ask, 10).unwrap();
        assert!(ops.as_array().unwrap().len() <= 10, "{ops}");
        let after = applied(&before, &ops);
        assert_eq!(widget_ids(&after).len(), 20);
        assert_eq!(layout_of(&after).len(), 20);
        assert!(after["widgets"].get("z").is_none());
    }

    #[test]
    fn ids_are_escaped_in_pointers() {
        let empty = json!({"schemaVersion": 2, "widgets": {}, "layout": []});
        let answer = vec![widget("a/b~c", 1)];
        let ops = plan(&empty, &answer, &json!(ANSWER), Placement::Ask, 100).unwrap();
        assert!(ops.as_array().unwrap().iter().any(|op| op["path"] == "/widgets/a~1b~0c"), "{ops}");
        assert_eq!(applied(&empty, &ops)["widgets"]["a/b~c"], widget("a/b~c", 1));
    }
}
