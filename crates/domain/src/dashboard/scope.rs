//! What a patch works on: the whole document, or only the members (and, in
//! `widgets`, the widgets) its operations name.
//!
//! Most patches write one or two members: an ask writes `lastAnswer` and the
//! widgets whose content changed (Pulse's live metrics, every time), a tab
//! appends an activity entry. Copying every member to JSON, checking every
//! widget against the catalog again and diffing the whole document would be
//! most of a write's cost, so [`apply_patch_to_checked`](super::patch::apply_patch_to_checked)
//! copies only what the operations read or write, checks again only what they
//! write, and takes the rest as it is from the document, which is known to
//! pass every rule (it came out of an earlier write). The property tests check that this gives
//! the same result as working on the whole document, for any patch.

use std::collections::BTreeSet;

use json_patch::PatchOperation;
use json_patch::jsonptr::Pointer;
use serde_json::{Map, Value};

use super::document::DashboardDocument;
use super::members::MemberSet;

/// What a patch works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every member: an operation reads or writes the root.
    Whole,
    /// The members the operations name.
    Members(MemberScope),
}

/// The members a patch reads and writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct MemberScope {
    /// Members read or written: the working copy holds these.
    pub read: MemberSet,
    /// Members written: these are checked again (`layout` whenever `widgets` is).
    pub written: MemberSet,
    /// The widgets named, when every operation on `widgets` names one widget
    /// (`/widgets/w1…`); `None` when one names the member itself.
    pub widgets: Option<WidgetKeys>,
}

/// The widget ids a patch names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct WidgetKeys {
    /// Widgets read or written.
    pub read: BTreeSet<String>,
    /// Widgets written: these are checked again.
    pub written: BTreeSet<String>,
}

impl Scope {
    /// The scope of `ops`.
    pub(super) fn of(ops: &[PatchOperation]) -> Self {
        let mut scope = MemberScope::default();
        let mut widgets = Some(WidgetKeys::default());
        for op in ops {
            let (writes, reads): ([Option<&Pointer>; 2], Option<&Pointer>) = match op {
                PatchOperation::Test(test) => ([None, None], Some(&test.path)),
                PatchOperation::Copy(copy) => ([Some(&copy.path), None], Some(&copy.from)),
                PatchOperation::Move(moved) => ([Some(&moved.from), Some(&moved.path)], None),
                PatchOperation::Add(_) | PatchOperation::Replace(_) | PatchOperation::Remove(_) => {
                    ([Some(op.path()), None], None)
                }
            };
            let named = writes.into_iter().flatten().all(|path| scope.note(path, true, &mut widgets))
                && reads.is_none_or(|path| scope.note(path, false, &mut widgets));
            // The root, or a name no member has: work on the whole document, as a reader would.
            if !named {
                return Self::Whole;
            }
        }
        // The layout names widgets, so a change to either checks the layout again.
        if scope.written.contains("widgets") {
            scope.written.insert("layout");
        }
        scope.read = scope.read.union(scope.written);
        scope.widgets = widgets.filter(|_| scope.read.contains("widgets"));
        Self::Members(scope)
    }

    /// The copy the operations are applied to.
    pub(super) fn working_copy(&self, document: &DashboardDocument) -> Result<Value, serde_json::Error> {
        match self {
            Self::Whole => serde_json::to_value(document),
            Self::Members(scope) => scope.copy_of(document, scope.read),
        }
    }
}

impl MemberScope {
    /// Notes the member `path` starts in (and the widget, in `widgets`); false
    /// for the root or a name no member has.
    fn note(&mut self, path: &Pointer, writes: bool, widgets: &mut Option<WidgetKeys>) -> bool {
        let Some((member, rest)) = path.split_front() else { return false };
        let member = member.decoded();
        let members = if writes { &mut self.written } else { &mut self.read };
        if !members.insert(&member) {
            return false;
        }
        if member == "widgets" {
            match (rest.first(), widgets.as_mut()) {
                (None, _) => *widgets = None,
                (Some(key), Some(keys)) => {
                    let key = key.decoded().into_owned();
                    if writes {
                        keys.written.insert(key.clone());
                    }
                    keys.read.insert(key);
                }
                (Some(_), None) => {}
            }
        }
        true
    }

    /// The widget ids checked again, when only some are.
    pub(super) fn written_widgets(&self) -> Option<&BTreeSet<String>> {
        self.widgets.as_ref().map(|keys| &keys.written)
    }

    /// `members` of `document` as its JSON would hold them; of `widgets`, only
    /// the widgets in scope when the scope names single widgets.
    fn copy_of(&self, document: &DashboardDocument, members: MemberSet) -> Result<Value, serde_json::Error> {
        let mut object = Map::new();
        for name in members.names() {
            let value = match (name, &self.widgets) {
                ("widgets", Some(keys)) => {
                    let mut named = Map::new();
                    for key in &keys.read {
                        if let Some(widget) = document.widgets.get(key) {
                            named.insert(key.clone(), serde_json::to_value(widget)?);
                        }
                    }
                    Some(Value::Object(named))
                }
                _ => document.member_value(name)?,
            };
            if let Some(value) = value {
                object.insert(name.to_owned(), value);
            }
        }
        Ok(Value::Object(object))
    }

    /// The stored side of the rules' effects ([`rule_effects`](super::patch)):
    /// the members in scope of `next`, plus those the rules changed elsewhere
    /// (a widget's size goes with it), whose values before are added to `working`.
    pub(super) fn stored_copy(
        &self,
        before: &DashboardDocument,
        next: &DashboardDocument,
        working: &mut Value,
    ) -> Result<Value, serde_json::Error> {
        let changed_elsewhere = next.members_differing_from(before).without(self.read);
        if let (Value::Object(working), Value::Object(before)) = (working, self.copy_of(before, changed_elsewhere)?) {
            for (name, value) in before {
                working.entry(name).or_insert(value);
            }
        }
        self.copy_of(next, self.read.union(changed_elsewhere))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_of(ops: serde_json::Value) -> Scope {
        let ops: Vec<PatchOperation> = serde_json::from_value(ops).expect("well-formed operations");
        Scope::of(&ops)
    }

    fn members(names: &[&str]) -> MemberSet {
        let mut set = MemberSet::default();
        for name in names {
            set.insert(name);
        }
        set
    }

    fn keys(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn an_ask_names_its_members_and_the_widgets_it_writes() {
        let scope = scope_of(serde_json::json!([
            {"op": "test", "path": "/layout", "value": []},
            {"op": "add", "path": "/widgets/pulse", "value": {}},
            {"op": "test", "path": "/widgets/navi/type", "value": "ProjectStatus"},
            {"op": "add", "path": "/lastAnswer", "value": {}},
        ]));
        let expected = MemberScope {
            read: members(&["widgets", "layout", "lastAnswer"]),
            written: members(&["widgets", "layout", "lastAnswer"]),
            widgets: Some(WidgetKeys { read: keys(&["navi", "pulse"]), written: keys(&["pulse"]) }),
        };
        assert_eq!(scope, Scope::Members(expected));
    }

    #[test]
    fn the_root_or_the_whole_widgets_member_widens_the_scope() {
        assert_eq!(scope_of(serde_json::json!([{"op": "test", "path": "", "value": {}}])), Scope::Whole);
        let Scope::Members(scope) = scope_of(serde_json::json!([
            {"op": "remove", "path": "/widgets/w1"},
            {"op": "add", "path": "/widgets", "value": {}},
        ])) else {
            panic!("members named");
        };
        assert_eq!(scope.widgets, None);
        let Scope::Members(scope) = scope_of(serde_json::json!([{"op": "add", "path": "/lastAnswer", "value": {}}]))
        else {
            panic!("members named");
        };
        assert_eq!(
            (scope.read, scope.written, scope.widgets),
            (members(&["lastAnswer"]), members(&["lastAnswer"]), None)
        );
    }
}
