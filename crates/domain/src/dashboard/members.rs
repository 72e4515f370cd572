//! The document's top-level members, one at a time: a patch usually writes one
//! or two of them (`lastAnswer`, a widget, an activity entry), so the write path
//! copies, checks again and compares only those (see `patch.rs`), and takes the
//! rest, already checked, from the document the patch applies to.

use serde_json::Value;

use super::document::DashboardDocument;

/// Every top-level member a document may have, in the order the rules check them.
pub(super) const MEMBERS: [&str; 12] = [
    "schemaVersion",
    "widgets",
    "layout",
    "activeProject",
    "activeTasks",
    "alerts",
    "activeAlerts",
    "metrics",
    "activity",
    "preferences",
    "widgetSizes",
    "lastAnswer",
];

/// A set of top-level members, by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct MemberSet(u16);

impl MemberSet {
    /// Adds `name`; false (and nothing added) when it is not a member's name.
    pub(super) fn insert(&mut self, name: &str) -> bool {
        let Some(index) = MEMBERS.iter().position(|member| *member == name) else { return false };
        self.0 |= 1 << index;
        true
    }

    /// Whether `name` is in the set.
    pub(super) fn contains(self, name: &str) -> bool {
        MEMBERS.iter().position(|member| *member == name).is_some_and(|index| self.0 & (1 << index) != 0)
    }

    /// Both sets together.
    pub(super) fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The members of this set that are not in `other`.
    pub(super) fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The names in the set, in [`MEMBERS`] order.
    pub(super) fn names(self) -> impl Iterator<Item = &'static str> {
        MEMBERS.into_iter().enumerate().filter(move |(index, _)| self.0 & (1 << index) != 0).map(|(_, name)| name)
    }
}

impl DashboardDocument {
    /// One member as `serde_json::to_value` of the whole document would hold it;
    /// `None` for a member the document leaves out (`lastAnswer` when there is none).
    pub(super) fn member_value(&self, name: &str) -> Result<Option<Value>, serde_json::Error> {
        let value = match name {
            "schemaVersion" => serde_json::to_value(self.schema_version)?,
            "widgets" => serde_json::to_value(&self.widgets)?,
            "layout" => serde_json::to_value(&self.layout)?,
            "activeProject" => serde_json::to_value(&self.active_project)?,
            "activeTasks" => serde_json::to_value(&self.active_tasks)?,
            "alerts" => serde_json::to_value(&self.alerts)?,
            "activeAlerts" => serde_json::to_value(&self.active_alerts)?,
            "metrics" => serde_json::to_value(&self.metrics)?,
            "activity" => serde_json::to_value(&self.activity)?,
            "preferences" => serde_json::to_value(self.preferences)?,
            "widgetSizes" => serde_json::to_value(&self.widget_sizes)?,
            "lastAnswer" => match &self.last_answer {
                Some(answer) => serde_json::to_value(answer)?,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some(value))
    }

    /// The members whose content differs between the two documents.
    pub(super) fn members_differing_from(&self, other: &Self) -> MemberSet {
        let differs = [
            self.schema_version != other.schema_version,
            self.widgets != other.widgets,
            self.layout != other.layout,
            self.active_project != other.active_project,
            self.active_tasks != other.active_tasks,
            self.alerts != other.alerts,
            self.active_alerts != other.active_alerts,
            self.metrics != other.metrics,
            self.activity != other.activity,
            self.preferences != other.preferences,
            self.widget_sizes != other.widget_sizes,
            self.last_answer != other.last_answer,
        ];
        let bits =
            differs.iter().enumerate().filter(|(_, differs)| **differs).fold(0, |bits, (index, _)| bits | 1 << index);
        MemberSet(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixtures::document;
    use super::*;

    #[test]
    fn member_values_are_the_members_of_the_whole_document() {
        let document = document();
        let whole = serde_json::to_value(&document).expect("serializes");
        let whole = whole.as_object().expect("an object");
        for name in MEMBERS {
            assert_eq!(document.member_value(name).expect("serializes").as_ref(), whole.get(name), "{name}");
        }
        assert_eq!(document.member_value("nope").expect("nothing to serialize"), None);
    }

    #[test]
    fn sets_hold_members_only() {
        let mut set = MemberSet::default();
        assert!(set.insert("lastAnswer"));
        assert!(set.insert("widgets"));
        assert!(!set.insert("__proto__"));
        assert!(set.contains("widgets") && !set.contains("layout"));
        assert_eq!(set.names().collect::<Vec<_>>(), ["widgets", "lastAnswer"]);
        let mut changed = document();
        changed.layout.reverse();
        assert_eq!(changed.members_differing_from(&document()).names().collect::<Vec<_>>(), ["layout"]);
    }
}
