//! Scheduling classes for the store's background threads.
//!
//! The embedded server often runs on one core (the benchmarks pin it there),
//! where the kernel's choice of which thread runs after a wakeup decides how
//! commits group. A normal-class writer, woken by each commit the event loop
//! queued, preempted the loop at once and ran that one commit as a
//! transaction of its own (1.4 commits per transaction at 5 000 commits/s).
//! As a batch-class thread it is not preferred on wakeup: it runs when the loop
//! yields the core, and finds the commits the loop queued meanwhile (about 7
//! per transaction; the server's CPU went from 82 % to 70 % of the core for the
//! same load). The checkpointer only copies pages and waits for `fsync`s, work
//! that may wait for an idle moment, so it is idle-class: it no longer takes
//! the core from the loop and the writer in the middle of a burst (the p99 of
//! the delivery latency halved). But an idle-class thread gets no time at
//! all while the core stays busy: in a 10 s `SendMessage` run at 100 % of the
//! core it never ran, no rewind was ever due, and the WAL grew to 426 MB (the
//! writers' own automatic checkpoints are passive and cannot rewind it under a
//! steady stream of commits). So a writer that finds a nudge unserved for
//! long moves the checkpointer to the batch class ([`set_thread_class`]) until
//! it has caught up (see `checkpoint`).
//!
//! Written against `libc` because the call is one line; on systems other than
//! Linux the threads keep the normal class.

/// A scheduling class below the normal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// `SCHED_BATCH`: a full share of the core, but not preferred on wakeup.
    Batch,
    /// `SCHED_IDLE`: runs only when nothing else wants the core.
    Idle,
}

/// Moves the calling thread to `priority`'s class; a failure is logged and
/// leaves the thread in the normal class (only slower, never wrong).
pub(crate) fn lower_this_thread(priority: Priority) {
    set_thread_class(0, priority);
}

/// The calling thread's id, for [`set_thread_class`] from another thread (0 elsewhere than Linux).
pub(crate) fn this_thread_id() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `gettid` has no preconditions.
        unsafe { libc::gettid() }
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// Moves thread `thread` (a [`this_thread_id`]; 0: the calling one) to `priority`'s class.
pub(crate) fn set_thread_class(thread: i32, priority: Priority) {
    #[cfg(target_os = "linux")]
    {
        let policy = match priority {
            Priority::Batch => libc::SCHED_BATCH,
            Priority::Idle => libc::SCHED_IDLE,
        };
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid `sched_param` that outlives the call; pid 0
        // is the calling thread, another a thread of this process, and these
        // classes need no privilege.
        let status = unsafe { libc::sched_setscheduler(thread, policy, &param) };
        if status != 0 {
            let error = std::io::Error::last_os_error();
            tracing::warn!(%error, ?priority, "could not lower a SQLite writer thread's scheduling class");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (thread, priority);
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The calling thread's scheduling policy.
    fn policy() -> i32 {
        // SAFETY: pid 0 is the calling thread.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn a_thread_is_moved_to_the_class_asked_for() -> std::thread::Result<()> {
        let batch = std::thread::spawn(|| {
            lower_this_thread(Priority::Batch);
            policy()
        });
        let idle = std::thread::spawn(|| {
            lower_this_thread(Priority::Idle);
            policy()
        });
        assert_eq!(batch.join()?, libc::SCHED_BATCH);
        assert_eq!(idle.join()?, libc::SCHED_IDLE);
        // Only the calling thread changes.
        assert_eq!(policy(), libc::SCHED_OTHER);
        Ok(())
    }
}
