//! API tokens: found by digest on every request, listed and revoked per owner.

use std::time::Duration;

use agentdeck_domain::api_tokens::{ApiToken, TokenKind};
use agentdeck_domain::page::{Cursor, Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::errors::db_error_unique;
use super::rows::{self, api_token_columns};
use super::statement::Statement;
use super::{SqlStore, db_error, text};
use crate::StoreError;
use crate::store::{ApiTokenStore, TokenOwner};

/// JSON Pointer of the one field that must be unique among tokens.
const DIGEST_PATH: &str = "/digest";

/// Appends the owner's condition (`AND …`) to a statement.
fn push_owner(statement: &mut Statement, owner: TokenOwner) {
    let (column, id, kind) = match owner {
        TokenOwner::Account(id) => (" AND account_id = ", id, TokenKind::Personal),
        TokenOwner::WorkspaceServices(id) => (" AND workspace_id = ", id, TokenKind::Service),
    };
    statement.push(column).bind(id.to_string()).push(" AND kind = ").bind(kind.as_str());
}

#[async_trait]
impl ApiTokenStore for SqlStore {
    async fn insert_api_token(&self, token: &ApiToken, digest: &str) -> Result<(), StoreError> {
        text::storable("/name", &token.name)?;
        text::storable("/createdBy", &token.created_by)?;
        text::storable(DIGEST_PATH, digest)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, digest, kind, workspace_id, account_id, name, scopes, prefix, created_by, \
             created_at, expires_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(token.id.to_string())
        .bind(digest)
        .bind(token.kind.as_str())
        .bind(token.workspace_id.to_string())
        .bind(rows::opt_id(token.account_id))
        .bind(token.name.as_str())
        .bind(token.scopes.to_stored())
        .bind(token.prefix.as_str())
        .bind(token.created_by.as_str())
        .bind(rows::millis(token.created_at))
        .bind(rows::millis(token.expires_at))
        .bind(rows::opt_millis(token.last_used_at))
        .bind(rows::opt_millis(token.revoked_at))
        .execute(&mut *tx)
        .await
        .map_err(|error| db_error_unique(error, DIGEST_PATH))?;
        tx.commit().await.map_err(db_error)
    }

    async fn find_api_token_by_digest(&self, digest: &str) -> Result<Option<ApiToken>, StoreError> {
        text::storable(DIGEST_PATH, digest)?;
        let sql = concat!("SELECT ", api_token_columns!(), " FROM api_tokens WHERE digest = $1");
        let row = sqlx::query(sql).bind(digest).fetch_optional(&self.pool).await.map_err(db_error)?;
        row.as_ref().map(rows::api_token).transpose()
    }

    async fn list_api_tokens(&self, owner: TokenOwner, page: PageRequest) -> Result<Page<ApiToken>, StoreError> {
        let mut statement =
            Statement::new(concat!("SELECT ", api_token_columns!(), " FROM api_tokens WHERE revoked_at IS NULL"));
        push_owner(&mut statement, owner);
        statement.page("created_at", page);
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let tokens =
            statement.fetch_all(&mut conn).await?.iter().map(rows::api_token).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(tokens, page.limit, |token| Cursor {
            sort_key: rows::millis(token.created_at),
            id: token.id,
        }))
    }

    async fn count_usable_api_tokens(&self, owner: TokenOwner, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut statement =
            Statement::new("SELECT COUNT(*) AS usable FROM api_tokens WHERE revoked_at IS NULL AND expires_at > ");
        statement.bind(rows::millis(now));
        push_owner(&mut statement, owner);
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let rows = statement.fetch_all(&mut conn).await?;
        let count: i64 = rows.first().map(|row| rows::get(row, "usable")).transpose()?.unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn revoke_api_token(&self, owner: TokenOwner, id: Uuid, now: DateTime<Utc>) -> Result<ApiToken, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut update = Statement::new("UPDATE api_tokens SET revoked_at = ");
        update.bind(rows::millis(now)).push(" WHERE id = ").bind(id.to_string()).push(" AND revoked_at IS NULL");
        push_owner(&mut update, owner);
        if update.execute(&mut tx).await? == 0 {
            return Err(StoreError::NotFound);
        }
        let sql = concat!("SELECT ", api_token_columns!(), " FROM api_tokens WHERE id = $1");
        let row = sqlx::query(sql).bind(id.to_string()).fetch_one(&mut *tx).await.map_err(db_error)?;
        let token = rows::api_token(&row)?;
        tx.commit().await.map_err(db_error)?;
        Ok(token)
    }

    async fn touch_api_token(&self, id: Uuid, now: DateTime<Utc>, min_interval: Duration) -> Result<bool, StoreError> {
        let interval = i64::try_from(min_interval.as_millis()).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        // The condition makes concurrent requests on several nodes write at most once per interval.
        let changed = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(id.to_string())
        .bind(rows::millis(now))
        .bind(rows::millis(now).saturating_sub(interval))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        tx.commit().await.map_err(db_error)?;
        Ok(changed > 0)
    }
}
