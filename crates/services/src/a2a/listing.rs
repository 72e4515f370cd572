//! Reading tasks: `GetTask`, and `ListTasks` with its page tokens.
//!
//! A page is the caller's tasks, newest status first (ties broken by id);
//! its token is the last task's record cursor (`agentdeck_domain::page::Cursor`),
//! so a page never repeats or skips a task that did not change meanwhile.

use agentdeck_a2a_protocol::{
    A2aError, FieldViolation, GetTaskRequest, ListTasksRequest, ListTasksResponse, Task, TaskState,
};
use agentdeck_domain::page::Cursor;
use agentdeck_storage::agent_tasks::{AgentTaskCursor, AgentTaskFilter};
use uuid::Uuid;

use super::caller::A2aCaller;
use super::service::{A2aService, decode_task, history_limit, store_error, with_history};

impl A2aService {
    /// `GetTask`.
    pub async fn get_task(&self, agent: &str, caller: &A2aCaller, request: GetTaskRequest) -> Result<Task, A2aError> {
        A2aError::check(request.violations())?;
        self.executor(agent)?;
        let task = self.current_task(&caller.scope(agent), &request.id).await?;
        Ok(with_history(task, history_limit(request.history_length)))
    }

    /// `ListTasks`: newest status first, artifacts only when asked for.
    pub async fn list_tasks(
        &self,
        agent: &str,
        caller: &A2aCaller,
        request: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2aError> {
        A2aError::check(request.violations())?;
        self.executor(agent)?;
        let page_size = request.page_size.unwrap_or(ListTasksRequest::DEFAULT_PAGE_SIZE);
        let cursor = match request.page_token.as_deref().filter(|token| !token.is_empty()) {
            Some(token) => Some(decode_page_token(token)?),
            None => None,
        };
        let filter = AgentTaskFilter {
            context_id: request.context_id.clone().filter(|id| !id.is_empty()),
            state: request.status.filter(|s| *s != TaskState::Unspecified).map(|s| s.as_str().to_owned()),
            status_after: request.status_timestamp_after,
        };
        let limit = u32::try_from(page_size).unwrap_or(50);
        // One more than the page: whether it exists says if there is a next page.
        let page = self
            .inner
            .store
            .list_agent_tasks(&caller.scope(agent), &filter, cursor.as_ref(), limit + 1)
            .await
            .map_err(store_error)?;
        let more = page.tasks.len() > page_size as usize;
        let mut stored = page.tasks;
        stored.truncate(page_size as usize);
        let next_page_token = match (more, stored.last()) {
            (true, Some(last)) => encode_page_token(&AgentTaskCursor {
                status_at_millis: last.status_at.timestamp_millis(),
                id: last.id.clone(),
            }),
            _ => String::new(),
        };
        let include_artifacts = request.include_artifacts.unwrap_or(false);
        let mut tasks = Vec::with_capacity(stored.len());
        for record in stored {
            let mut task = with_history(decode_task(record.body)?, history_limit(request.history_length));
            if !include_artifacts {
                task.artifacts.clear();
            }
            tasks.push(task);
        }
        Ok(ListTasksResponse {
            tasks,
            next_page_token,
            page_size,
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
        })
    }
}

/// Page tokens are the records' cursors (`agentdeck_domain::page::Cursor`): status time and task id.
fn encode_page_token(cursor: &AgentTaskCursor) -> String {
    match Uuid::parse_str(&cursor.id) {
        Ok(id) => Cursor { sort_key: cursor.status_at_millis, id }.encode(),
        // Every task id this service makes is a UUID; anything else cannot be paged past.
        Err(_) => String::new(),
    }
}

/// A page token back as a cursor, or invalid params naming `pageToken`.
fn decode_page_token(token: &str) -> Result<AgentTaskCursor, A2aError> {
    let cursor = Cursor::decode(token).map_err(|_| {
        A2aError::invalid_params(vec![FieldViolation::new("pageToken", "is not a token this server gave")])
    })?;
    Ok(AgentTaskCursor { status_at_millis: cursor.sort_key, id: cursor.id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_foreign_tokens_are_invalid_params() {
        let cursor = AgentTaskCursor { status_at_millis: 1_700_000_000_123, id: Uuid::now_v7().to_string() };
        let token = encode_page_token(&cursor);
        assert!(!token.is_empty());
        assert_eq!(decode_page_token(&token).ok(), Some(cursor));
        assert_eq!(decode_page_token("not-a-token").map_err(|e| e.code()), Err(-32602));
        let not_a_uuid = AgentTaskCursor { status_at_millis: 1, id: "task-1".into() };
        assert_eq!(encode_page_token(&not_a_uuid), "");
    }
}
