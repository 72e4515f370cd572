//! Accounts of people: unique by normalised email, not scoped to a workspace.

use agentdeck_domain::page::{Cursor, Page, PageRequest};
use agentdeck_domain::records::Account;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::errors::db_error_unique;
use super::rows::{self, account_columns};
use super::statement::Statement;
use super::{SqlStore, db_error, text};
use crate::StoreError;
use crate::store::AccountStore;

/// JSON Pointer of the one field that must be unique among accounts.
const EMAIL_PATH: &str = "/email";

/// The text fields of an account (the hash is ASCII by construction, checked all the same).
pub(super) fn storable(account: &Account) -> Result<(), StoreError> {
    text::storable("/email", &account.email)?;
    text::storable("/displayName", &account.display_name)?;
    account.password_hash.as_deref().map_or(Ok(()), |hash| text::storable("/passwordHash", hash))
}

/// Inserts the account row inside the caller's transaction.
pub(super) async fn insert_row(conn: &mut AnyConnection, account: &Account) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO accounts (id, email, display_name, password_hash, disabled, instance_admin, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(account.id.to_string())
    .bind(account.email.as_str())
    .bind(account.display_name.as_str())
    .bind(account.password_hash.as_deref())
    .bind(account.disabled)
    .bind(account.instance_admin)
    .bind(rows::millis(account.created_at))
    .bind(rows::millis(account.updated_at))
    .execute(conn)
    .await
    .map_err(|error| db_error_unique(error, EMAIL_PATH))?;
    Ok(())
}

/// Creates an account.
async fn insert(store: &SqlStore, account: &Account) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    insert_row(&mut tx, account).await?;
    tx.commit().await.map_err(db_error)
}

/// Reads the one account a `WHERE` clause on a bound value selects.
async fn find(store: &SqlStore, sql: &'static str, value: String) -> Result<Option<Account>, StoreError> {
    let row = sqlx::query(sql).bind(value).fetch_optional(&store.pool).await.map_err(db_error)?;
    row.as_ref().map(rows::account).transpose()
}

/// Runs an update of one account by id (`$1`), with `updated_at` as `$2` and the
/// new value as `$3`; no row changed means no such account.
async fn set<'q, T>(
    store: &SqlStore,
    sql: &'static str,
    id: Uuid,
    now: DateTime<Utc>,
    value: T,
) -> Result<(), StoreError>
where
    T: sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + 'q + Send,
{
    let mut tx = store.begin_write().await?;
    let changed = sqlx::query(sql)
        .bind(id.to_string())
        .bind(rows::millis(now))
        .bind(value)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await.map_err(db_error)
}

/// Lists accounts, newest first.
async fn list(store: &SqlStore, page: PageRequest) -> Result<Page<Account>, StoreError> {
    // `1 = 1` so that the page's condition can start with `AND`.
    let mut statement = Statement::new(concat!("SELECT ", account_columns!(), " FROM accounts WHERE 1 = 1"));
    statement.page("created_at", page);
    let mut conn = store.pool.acquire().await.map_err(db_error)?;
    let accounts = statement.fetch_all(&mut conn).await?.iter().map(rows::account).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(accounts, page.limit, |account| Cursor {
        sort_key: rows::millis(account.created_at),
        id: account.id,
    }))
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError> {
        storable(account)?;
        insert(self, account).await
    }

    async fn get_account(&self, id: Uuid) -> Result<Option<Account>, StoreError> {
        find(self, concat!("SELECT ", account_columns!(), " FROM accounts WHERE id = $1"), id.to_string()).await
    }

    async fn find_account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError> {
        text::storable(EMAIL_PATH, email)?;
        find(self, concat!("SELECT ", account_columns!(), " FROM accounts WHERE email = $1"), email.to_owned()).await
    }

    async fn set_account_password_hash(
        &self,
        id: Uuid,
        password_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(hash) = password_hash {
            text::storable("/passwordHash", hash)?;
        }
        let sql = "UPDATE accounts SET updated_at = $2, password_hash = $3 WHERE id = $1";
        set(self, sql, id, now, password_hash.map(str::to_owned)).await
    }

    async fn set_account_disabled(&self, id: Uuid, disabled: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        set(self, "UPDATE accounts SET updated_at = $2, disabled = $3 WHERE id = $1", id, now, disabled).await
    }

    async fn set_account_instance_admin(&self, id: Uuid, admin: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        set(self, "UPDATE accounts SET updated_at = $2, instance_admin = $3 WHERE id = $1", id, now, admin).await
    }

    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>, StoreError> {
        list(self, page).await
    }
}
