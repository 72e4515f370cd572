//! The blocked-by graph between tasks, and the rule that it has no cycles.
//!
//! A task may be blocked by other tasks of its workspace. A cycle (A waits for B
//! waits for A) could never be resolved, so a change that would close one is
//! rejected; the cycle found is reported so the user can see which link to drop.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

/// Finds a cycle created by giving `task` the blockers `blocked_by`, given the
/// other tasks' current links (`task id → ids it is blocked by`).
///
/// Returns the cycle as a path starting and ending at `task` (e.g. `[a, b, c, a]`)
/// or `None` when the new links keep the graph acyclic. Links of `task` itself in
/// `existing` are ignored: `blocked_by` replaces them.
pub fn find_cycle(task: Uuid, blocked_by: &[Uuid], existing: &HashMap<Uuid, Vec<Uuid>>) -> Option<Vec<Uuid>> {
    // Depth-first search from each new blocker, following blocked-by links; reaching
    // `task` again means the new links close a cycle. `visited` keeps it linear.
    let mut visited: HashSet<Uuid> = HashSet::new();
    for &start in blocked_by {
        let mut stack = vec![(start, vec![task, start])];
        while let Some((node, path)) = stack.pop() {
            if node == task {
                return Some(path);
            }
            if !visited.insert(node) {
                continue;
            }
            let Some(next) = existing.get(&node) else {
                continue;
            };
            for &blocker in next {
                let mut next_path = path.clone();
                next_path.push(blocker);
                stack.push((blocker, next_path));
            }
        }
    }
    None
}

/// Length (in tasks) of the longest chain of blocked-by links in the graph, e.g.
/// `a ← b ← c` is 3. Assumes the graph is acyclic, as [`find_cycle`] keeps it.
pub fn longest_chain(links: &HashMap<Uuid, Vec<Uuid>>) -> usize {
    fn depth(node: Uuid, links: &HashMap<Uuid, Vec<Uuid>>, memo: &mut HashMap<Uuid, usize>) -> usize {
        if let Some(&known) = memo.get(&node) {
            return known;
        }
        // Marks the node first so a cycle, should one slip in, ends the recursion.
        memo.insert(node, 1);
        let below = links
            .get(&node)
            .map(|blockers| blockers.iter().map(|&blocker| depth(blocker, links, memo)).max().unwrap_or(0))
            .unwrap_or(0);
        memo.insert(node, below + 1);
        below + 1
    }
    let mut memo = HashMap::new();
    links.keys().map(|&node| depth(node, links, &mut memo)).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::now_v7()).collect()
    }

    #[test]
    fn self_block_is_a_cycle() {
        let [a] = ids(1)[..] else { unreachable!() };
        assert_eq!(find_cycle(a, &[a], &HashMap::new()), Some(vec![a, a]));
    }

    #[test]
    fn closing_a_three_task_loop_is_reported_with_its_path() {
        let [a, b, c] = ids(3)[..] else { unreachable!() };
        // b is blocked by c, c is blocked by a; now a wants to be blocked by b.
        let existing = HashMap::from([(b, vec![c]), (c, vec![a])]);
        assert_eq!(find_cycle(a, &[b], &existing), Some(vec![a, b, c, a]));
    }

    #[test]
    fn a_chain_without_a_loop_is_accepted() {
        let [a, b, c, d] = ids(4)[..] else { unreachable!() };
        let existing = HashMap::from([(b, vec![c]), (c, vec![d]), (a, vec![b])]);
        assert_eq!(find_cycle(a, &[b, d], &existing), None);
        // Replacing a's own links: the old ones do not count.
        let existing = HashMap::from([(a, vec![b]), (b, vec![c])]);
        assert_eq!(find_cycle(a, &[c], &existing), None);
    }

    #[test]
    fn diamond_is_not_a_cycle() {
        let [a, b, c, d] = ids(4)[..] else { unreachable!() };
        let existing = HashMap::from([(b, vec![d]), (c, vec![d])]);
        assert_eq!(find_cycle(a, &[b, c], &existing), None);
    }

    #[test]
    fn longest_chain_counts_tasks() {
        let [a, b, c, d] = ids(4)[..] else { unreachable!() };
        assert_eq!(longest_chain(&HashMap::new()), 0);
        let links = HashMap::from([(a, vec![b]), (b, vec![c]), (d, vec![c])]);
        assert_eq!(longest_chain(&links), 3);
    }
}
