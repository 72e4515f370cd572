//! Identities at OpenID Connect providers and pending sign-ins.

use agentdeck_domain::records::{Identity, PendingOidcLogin};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::errors::db_error_unique;
use super::rows::{self, get, opt_uuid, uuid};
use super::{SqlStore, db_error, text};
use crate::StoreError;
use crate::store::{IdentityDeletion, IdentityStore, MAX_IDENTITIES_PER_ACCOUNT};

/// Columns of an identity, in the order [`identity`] reads them (a macro, so `concat!` makes static SQL).
macro_rules! identity_columns {
    () => {
        "id, account_id, provider, issuer, subject, email, created_at, last_used_at"
    };
}

/// Reads an identity row.
fn identity(row: &AnyRow) -> Result<Identity, StoreError> {
    Ok(Identity {
        id: uuid(row, "id")?,
        account_id: uuid(row, "account_id")?,
        provider: get(row, "provider")?,
        issuer: get(row, "issuer")?,
        subject: get(row, "subject")?,
        email: get(row, "email")?,
        created_at: rows::time(row, "created_at")?,
        last_used_at: rows::opt_time(row, "last_used_at")?,
    })
}

/// Reads a pending login row.
fn pending_login(row: &AnyRow) -> Result<PendingOidcLogin, StoreError> {
    Ok(PendingOidcLogin {
        state_digest: get(row, "state_digest")?,
        provider: get(row, "provider")?,
        pkce_verifier: get(row, "pkce_verifier")?,
        nonce: get(row, "nonce")?,
        link_account_id: opt_uuid(row, "link_account_id")?,
        return_path: get(row, "return_path")?,
        created_at: rows::time(row, "created_at")?,
        expires_at: rows::time(row, "expires_at")?,
    })
}

/// Locks the account's row until the transaction ends (PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already serialises writers), so that checks on its
/// identities and the write that follows see no concurrent change. A no-op
/// update, because SQLite has no `SELECT … FOR UPDATE`; no row means no account.
async fn lock_account(conn: &mut sqlx::AnyConnection, account_id: Uuid) -> Result<bool, StoreError> {
    let locked = sqlx::query("UPDATE accounts SET updated_at = updated_at WHERE id = $1")
        .bind(account_id.to_string())
        .execute(conn)
        .await
        .map_err(db_error)?
        .rows_affected();
    Ok(locked == 1)
}

/// Counts the account's identities.
async fn count_identities(conn: &mut sqlx::AnyConnection, account_id: Uuid) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM identities WHERE account_id = $1")
        .bind(account_id.to_string())
        .fetch_one(conn)
        .await
        .map_err(db_error)?;
    get(&row, "n")
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn insert_identity(&self, identity: &Identity) -> Result<(), StoreError> {
        text::storable("/provider", &identity.provider)?;
        text::storable("/issuer", &identity.issuer)?;
        text::storable("/subject", &identity.subject)?;
        identity.email.as_deref().map_or(Ok(()), |email| text::storable("/email", email))?;
        let mut tx = self.begin_write().await?;
        if !lock_account(&mut tx, identity.account_id).await? {
            return Err(StoreError::Conflict);
        }
        let limit = i64::try_from(MAX_IDENTITIES_PER_ACCOUNT).unwrap_or(i64::MAX);
        if count_identities(&mut tx, identity.account_id).await? >= limit {
            return Err(StoreError::Duplicate { path: "/accountId".into() });
        }
        sqlx::query(
            "INSERT INTO identities (id, account_id, provider, issuer, subject, email, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(identity.id.to_string())
        .bind(identity.account_id.to_string())
        .bind(identity.provider.as_str())
        .bind(identity.issuer.as_str())
        .bind(identity.subject.as_str())
        .bind(identity.email.as_deref())
        .bind(rows::millis(identity.created_at))
        .bind(rows::opt_millis(identity.last_used_at))
        .execute(&mut *tx)
        .await
        .map_err(|error| db_error_unique(error, "/subject"))?;
        tx.commit().await.map_err(db_error)
    }

    async fn find_identity(&self, issuer: &str, subject: &str) -> Result<Option<Identity>, StoreError> {
        text::storable("/issuer", issuer)?;
        text::storable("/subject", subject)?;
        let sql = concat!("SELECT ", identity_columns!(), " FROM identities WHERE issuer = $1 AND subject = $2");
        let row = sqlx::query(sql)
            .bind(issuer.to_owned())
            .bind(subject.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(identity).transpose()
    }

    async fn list_identities(&self, account_id: Uuid) -> Result<Vec<Identity>, StoreError> {
        // Bounded by the insert's cap; the LIMIT keeps the promise should rows ever exceed it.
        let sql = concat!(
            "SELECT ",
            identity_columns!(),
            " FROM identities WHERE account_id = $1 ORDER BY created_at, id LIMIT $2"
        );
        let rows = sqlx::query(sql)
            .bind(account_id.to_string())
            .bind(i64::try_from(MAX_IDENTITIES_PER_ACCOUNT).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(identity).collect()
    }

    async fn mark_identity_used(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query("UPDATE identities SET last_used_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(rows::millis(now))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db_error)
    }

    async fn delete_identity(&self, account_id: Uuid, id: Uuid) -> Result<IdentityDeletion, StoreError> {
        let mut tx = self.begin_write().await?;
        if !lock_account(&mut tx, account_id).await? {
            return Err(StoreError::NotFound);
        }
        let has_password = sqlx::query("SELECT 1 AS one FROM accounts WHERE id = $1 AND password_hash IS NOT NULL")
            .bind(account_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
            .is_some();
        let exists = sqlx::query("SELECT 1 AS one FROM identities WHERE id = $1 AND account_id = $2")
            .bind(id.to_string())
            .bind(account_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
            .is_some();
        if !exists {
            return Err(StoreError::NotFound);
        }
        if !has_password && count_identities(&mut tx, account_id).await? <= 1 {
            return Ok(IdentityDeletion::LastWayIn);
        }
        sqlx::query("DELETE FROM identities WHERE id = $1 AND account_id = $2")
            .bind(id.to_string())
            .bind(account_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(IdentityDeletion::Deleted)
    }

    async fn insert_oidc_login(&self, login: &PendingOidcLogin) -> Result<(), StoreError> {
        text::storable("/provider", &login.provider)?;
        text::storable("/returnPath", &login.return_path)?;
        let mut tx = self.begin_write().await?;
        // Abandoned logins (the person never came back) go here, not in a sweeper task.
        sqlx::query("DELETE FROM oidc_logins WHERE expires_at <= $1")
            .bind(rows::millis(login.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO oidc_logins (state_digest, provider, pkce_verifier, nonce, link_account_id, return_path, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(login.state_digest.as_str())
        .bind(login.provider.as_str())
        .bind(login.pkce_verifier.as_str())
        .bind(login.nonce.as_str())
        .bind(rows::opt_id(login.link_account_id))
        .bind(login.return_path.as_str())
        .bind(rows::millis(login.created_at))
        .bind(rows::millis(login.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(|error| db_error_unique(error, "/state"))?;
        tx.commit().await.map_err(db_error)
    }

    async fn take_oidc_login(
        &self,
        state_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingOidcLogin>, StoreError> {
        text::storable("/state", state_digest)?;
        let mut tx = self.begin_write().await?;
        let sql = "SELECT state_digest, provider, pkce_verifier, nonce, link_account_id, return_path, created_at, \
                   expires_at FROM oidc_logins WHERE state_digest = $1";
        let row = sqlx::query(sql).bind(state_digest.to_owned()).fetch_optional(&mut *tx).await.map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let login = pending_login(&row)?;
        // Whoever deletes the row owns the login: of two concurrent takes, one deletes it and the other reads `None`.
        let deleted = sqlx::query("DELETE FROM oidc_logins WHERE state_digest = $1")
            .bind(state_digest.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        tx.commit().await.map_err(db_error)?;
        Ok((deleted == 1 && login.expires_at > now).then_some(login))
    }
}
