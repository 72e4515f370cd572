//! Invitations: found by their token's digest, accepted with a conditional update.
//!
//! "Pending" is one condition written once ([`PENDING`]) and used by every
//! statement that needs it, so the list, the lookup by email and the accept
//! cannot disagree about what may still be used.

use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::{Account, ActivityEntry, Invitation, Member};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::errors::db_error_unique;
use super::rows::{self, invitation_columns};
use super::statement::Statement;
use super::{SqlStore, accounts, activity, db_error, members, text};
use crate::StoreError;
use crate::store::InvitationStore;

/// Not accepted, not revoked, not expired: `expires_at` is compared with the
/// parameter given (`pending!("$2")`), or with the one bound next (`pending!("")`).
macro_rules! pending {
    ($now:literal) => {
        concat!("accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ", $now)
    };
}

/// The text fields of an invitation.
fn storable(invitation: &Invitation) -> Result<(), StoreError> {
    text::storable("/email", &invitation.email)?;
    text::storable("/invitedBy", &invitation.invited_by)?;
    text::storable("/token", &invitation.token_digest)
}

/// Inserts an invitation.
async fn insert(store: &SqlStore, invitation: &Invitation) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    sqlx::query(concat!(
        "INSERT INTO invitations (",
        invitation_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(invitation.id.to_string())
    .bind(invitation.workspace_id.to_string())
    .bind(invitation.email.as_str())
    .bind(invitation.role.as_str())
    .bind(invitation.token_digest.as_str())
    .bind(invitation.invited_by.as_str())
    .bind(rows::millis(invitation.created_at))
    .bind(rows::millis(invitation.expires_at))
    .bind(rows::opt_millis(invitation.accepted_at))
    .bind(rows::opt_id(invitation.accepted_by))
    .bind(rows::opt_millis(invitation.revoked_at))
    .execute(&mut *tx)
    .await
    .map_err(|error| db_error_unique(error, "/token"))?;
    tx.commit().await.map_err(db_error)
}

/// Reads the one invitation a statement with bound values selects.
async fn find_one(
    conn: &mut AnyConnection,
    sql: &'static str,
    values: &[String],
) -> Result<Option<Invitation>, StoreError> {
    let mut query = sqlx::query(sql);
    for value in values {
        query = query.bind(value.as_str());
    }
    let row = query.fetch_optional(conn).await.map_err(db_error)?;
    row.as_ref().map(rows::invitation).transpose()
}

/// Lists the workspace's pending invitations, newest first.
async fn list_pending(
    store: &SqlStore,
    workspace_id: Uuid,
    now: DateTime<Utc>,
    page: PageRequest,
) -> Result<Page<Invitation>, StoreError> {
    let mut statement =
        Statement::new(concat!("SELECT ", invitation_columns!(), " FROM invitations WHERE workspace_id = "));
    statement
        .bind(workspace_id.to_string())
        .push(concat!(" AND ", pending!("")))
        .bind(rows::millis(now))
        .page("created_at", page);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let invitations =
        statement.fetch_all(&mut conn).await?.iter().map(rows::invitation).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(invitations, page.limit, |invitation| Cursor {
        sort_key: rows::millis(invitation.created_at),
        id: invitation.id,
    }))
}

/// Runs an update of one invitation of the workspace that is not yet accepted
/// nor revoked (`$1` workspace, `$2` id, `$3` and on the statement's own values,
/// bound by `bind`); no row changed: not found.
async fn update_open<'q>(
    store: &SqlStore,
    sql: &'static str,
    workspace_id: Uuid,
    id: Uuid,
    bind: impl FnOnce(Query<'q>) -> Query<'q>,
) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    let query = sqlx::query(sql).bind(workspace_id.to_string()).bind(id.to_string());
    let changed =
        bind(query).execute(&mut *tx).await.map_err(|error| db_error_unique(error, "/token"))?.rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(db_error)
}

/// A query of the `Any` driver.
type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// What every open update adds to its `WHERE`.
macro_rules! open {
    () => {
        "workspace_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL"
    };
}

/// Marks the invitation accepted and adds the member, in one transaction.
async fn accept(
    store: &SqlStore,
    token_digest: &str,
    now: DateTime<Utc>,
    account_id: Uuid,
    new_account: Option<&Account>,
    member: &Member,
    entry: &ActivityEntry,
) -> Result<Invitation, StoreError> {
    let mut tx = store.begin_write().await?;
    // The conditional update is the whole guard against double use: on
    // PostgreSQL a second accept blocks on the row lock and then finds the row
    // no longer pending; on SQLite `BEGIN IMMEDIATE` already made it wait.
    let changed = sqlx::query(concat!(
        "UPDATE invitations SET accepted_at = $2, accepted_by = $3 WHERE token_digest = $1 AND workspace_id = $4 AND ",
        pending!("$2")
    ))
    .bind(token_digest)
    .bind(rows::millis(now))
    .bind(account_id.to_string())
    .bind(member.workspace_id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    if let Some(account) = new_account {
        accounts::insert_row(&mut tx, account).await?;
    }
    members::insert_row(&mut tx, member).await?;
    activity::append(&mut tx, entry).await?;
    let accepted = find_one(
        &mut tx,
        concat!("SELECT ", invitation_columns!(), " FROM invitations WHERE token_digest = $1"),
        &[token_digest.to_owned()],
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt("the accepted invitation vanished inside its transaction".into()))?;
    tx.commit().await.map_err(db_error)?;
    Ok(accepted)
}

#[async_trait]
impl InvitationStore for SqlStore {
    async fn insert_invitation(&self, invitation: &Invitation) -> Result<(), StoreError> {
        storable(invitation)?;
        insert(self, invitation).await
    }

    async fn get_invitation(&self, workspace_id: Uuid, id: Uuid) -> Result<Option<Invitation>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let sql = concat!("SELECT ", invitation_columns!(), " FROM invitations WHERE workspace_id = $1 AND id = $2");
        find_one(&mut conn, sql, &[workspace_id.to_string(), id.to_string()]).await
    }

    async fn find_invitation_by_digest(&self, token_digest: &str) -> Result<Option<Invitation>, StoreError> {
        text::storable("/token", token_digest)?;
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let sql = concat!("SELECT ", invitation_columns!(), " FROM invitations WHERE token_digest = $1");
        find_one(&mut conn, sql, &[token_digest.to_owned()]).await
    }

    async fn find_pending_invitation(
        &self,
        workspace_id: Uuid,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError> {
        text::storable("/email", email)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE workspace_id = $1 AND email = $3 AND ",
            pending!("$2"),
            " ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(workspace_id.to_string())
        .bind(rows::millis(now))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(rows::invitation).transpose()
    }

    async fn is_member_email(&self, workspace_id: Uuid, email: &str) -> Result<bool, StoreError> {
        text::storable("/email", email)?;
        let row = sqlx::query(
            "SELECT 1 AS found FROM members WHERE workspace_id = $1 \
             AND (LOWER(email) = $2 OR user_id IN (SELECT id FROM accounts WHERE email = $2)) LIMIT 1",
        )
        .bind(workspace_id.to_string())
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.is_some())
    }

    async fn list_pending_invitations(
        &self,
        workspace_id: Uuid,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Invitation>, StoreError> {
        list_pending(self, workspace_id, now, page).await
    }

    async fn revoke_invitation(&self, workspace_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = concat!("UPDATE invitations SET revoked_at = $3 WHERE ", open!());
        update_open(self, sql, workspace_id, id, |query| query.bind(rows::millis(now))).await
    }

    async fn renew_invitation(
        &self,
        workspace_id: Uuid,
        id: Uuid,
        token_digest: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        text::storable("/token", token_digest)?;
        let sql = concat!("UPDATE invitations SET token_digest = $3, expires_at = $4 WHERE ", open!());
        let (digest, expires) = (token_digest.to_owned(), rows::millis(expires_at));
        update_open(self, sql, workspace_id, id, |query| query.bind(digest).bind(expires)).await
    }

    async fn accept_invitation(
        &self,
        token_digest: &str,
        now: DateTime<Utc>,
        account_id: Uuid,
        new_account: Option<&Account>,
        member: &Member,
        entry: &ActivityEntry,
    ) -> Result<Invitation, StoreError> {
        text::storable("/token", token_digest)?;
        if let Some(account) = new_account {
            accounts::storable(account)?;
        }
        text::member(member)?;
        text::activity(entry)?;
        accept(self, token_digest, now, account_id, new_account, member, entry).await
    }
}
