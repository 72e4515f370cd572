//! The auth log: appended by sign-in and friends, listed newest first, and
//! counted by the per-account lockout.

use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::{AuthEvent, AuthEventKind};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::statement::Statement;
use super::{SqlStore, db_error, rows, text};
use crate::StoreError;
use crate::store::AuthLogStore;

/// Columns of an auth-log entry, in the order [`event`] reads them.
macro_rules! auth_event_columns {
    () => {
        "id, at, kind, account_id, workspace_id, email, client_address, user_agent, detail"
    };
}

/// Reads an auth-log row.
fn event(row: &AnyRow) -> Result<AuthEvent, StoreError> {
    Ok(AuthEvent {
        id: rows::uuid(row, "id")?,
        at: rows::time(row, "at")?,
        kind: rows::wire_name(row, "kind", AuthEventKind::parse)?,
        account_id: rows::opt_uuid(row, "account_id")?,
        workspace_id: rows::opt_uuid(row, "workspace_id")?,
        email: rows::get(row, "email")?,
        client_address: rows::get(row, "client_address")?,
        user_agent: rows::get(row, "user_agent")?,
        detail: rows::get(row, "detail")?,
    })
}

/// The text fields of an entry.
fn storable(event: &AuthEvent) -> Result<(), StoreError> {
    for (path, value) in [
        ("/email", &event.email),
        ("/clientAddress", &event.client_address),
        ("/userAgent", &event.user_agent),
        ("/detail", &event.detail),
    ] {
        if let Some(value) = value {
            text::storable(path, value)?;
        }
    }
    Ok(())
}

async fn append(store: &SqlStore, event: &AuthEvent) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    sqlx::query(concat!(
        "INSERT INTO auth_events (",
        auth_event_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(event.id.to_string())
    .bind(rows::millis(event.at))
    .bind(event.kind.as_str())
    .bind(rows::opt_id(event.account_id))
    .bind(rows::opt_id(event.workspace_id))
    .bind(event.email.as_deref())
    .bind(event.client_address.as_deref())
    .bind(event.user_agent.as_deref())
    .bind(event.detail.as_deref())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)
}

async fn list(store: &SqlStore, page: PageRequest) -> Result<Page<AuthEvent>, StoreError> {
    // `1 = 1` so that the page's condition can start with `AND`.
    let mut statement = Statement::new(concat!("SELECT ", auth_event_columns!(), " FROM auth_events WHERE 1 = 1"));
    statement.page("at", page);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let events = statement.fetch_all(&mut conn).await?.iter().map(event).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(events, page.limit, |event| Cursor { sort_key: rows::millis(event.at), id: event.id }))
}

async fn failures(
    store: &SqlStore,
    email: &str,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    // The email is bound twice rather than reusing `$1`: both drivers number
    // parameters, but only PostgreSQL lets one number appear twice.
    let rows = sqlx::query(
        "SELECT at FROM auth_events WHERE email = $1 AND kind = 'sign_in_failed' AND at > $2 \
         AND at > COALESCE((SELECT MAX(at) FROM auth_events WHERE email = $3 AND kind = 'sign_in'), -1) \
         ORDER BY at DESC LIMIT $4",
    )
    .bind(email)
    .bind(rows::millis(since))
    .bind(email)
    .bind(i64::from(limit))
    .fetch_all(&store.pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(|row| rows::time(row, "at")).collect()
}

#[async_trait]
impl AuthLogStore for SqlStore {
    async fn append_auth_event(&self, event: &AuthEvent) -> Result<(), StoreError> {
        storable(event)?;
        append(self, event).await
    }

    async fn list_auth_events(&self, page: PageRequest) -> Result<Page<AuthEvent>, StoreError> {
        list(self, page).await
    }

    async fn recent_sign_in_failures(
        &self,
        email: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        text::storable("/email", email)?;
        failures(self, email, since, limit).await
    }
}
