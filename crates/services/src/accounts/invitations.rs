//! Invitations: how a person joins a workspace.
//!
//! # The flow
//!
//! 1. An owner or admin invites `{email, role}` ([`Invitations::invite`]). An
//!    admin may invite admins and members; only an owner may invite an owner (an
//!    invitation must not hand out more than its inviter holds). Someone already
//!    a member, or already invited and not yet answered, is a conflict.
//! 2. The server makes a token of 32 random bytes (base64url, 43 characters)
//!    and stores only its SHA-256 digest. The token travels once, inside the
//!    link `{public_url}/#invite=<token>`: by mail when SMTP is configured
//!    ([`Delivery::Email`]), else back to the inviter to pass on
//!    ([`Delivery::Link`]). A failed send still leaves the invitation
//!    ([`Delivery::Failed`] says why) and [`Invitations::resend`] makes a new
//!    token, which also invalidates the old one. The token sits in the URL's
//!    *fragment*, which browsers never send to a server: it cannot end up in
//!    access logs, proxies or `Referer` headers.
//! 3. The page shows what the token opens ([`Invitations::preview`]) and the
//!    invitee accepts ([`Invitations::accept`]). A new email creates its
//!    account (display name and a password that passes the policy); an existing
//!    account proves itself with its password, or by already being signed in.
//!    The member record (role from the invitation, `userId` = account id), the
//!    account if new and the activity entry are written in the same transaction
//!    that marks the invitation used — a conditional update, so of two racing
//!    accepts exactly one wins.
//!
//! A token that is unknown, expired, revoked or used gets one answer,
//! [`InvitationError::Unknown`]: the page cannot tell which, and neither can
//! someone guessing.

use std::sync::Arc;

use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::page::{Page, PageRequest};
use agentdeck_domain::records::{
    Account, ActivityAction, ActivityEntry, DEFAULT_WEEKLY_CAPACITY_HOURS, Invitation, Member, MemberRole, NewAccount,
    TargetKind, Workspace, check_password, normalize_email, stored_precision,
};
use agentdeck_domain::validation::{FieldError, ValidationErrors};
use agentdeck_storage::{StoreError, Stores};
use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::password::{self, PasswordError};
use crate::mail::{Mailer, OutgoingMail};

/// Length of a token in characters: 32 bytes in unpadded base64url.
pub const TOKEN_CHARS: usize = 43;

/// The one answer for a token that cannot be used, whatever the reason.
pub const UNKNOWN_INVITATION: &str = "this invitation is unknown, expired or already used";

/// Why an invitation could not be made, read or accepted.
#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    /// The input breaks a rule; the paths say where.
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No pending invitation has this token (unknown, expired, revoked or used).
    #[error("{UNKNOWN_INVITATION}")]
    Unknown,
    /// No invitation of the workspace has this id (or it is no longer open).
    #[error("invitation not found")]
    NotFound,
    /// The person is a member of the workspace already.
    #[error("{0} is already a member of this workspace")]
    AlreadyMember(String),
    /// The person has a pending invitation already.
    #[error("{0} has a pending invitation already; resend or revoke it")]
    AlreadyInvited(String),
    /// The account of the invited email is disabled.
    #[error("the account of this email is disabled")]
    AccountDisabled,
    /// The workspace of the invitation is disabled.
    #[error("this workspace is disabled")]
    WorkspaceDisabled,
    /// No randomness for the token.
    #[error("no randomness for the token: {0}")]
    Random(String),
    /// Hashing or verifying a password failed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How an invitation's token reached (or will reach) the invitee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Sent by mail; the answer does not hold the link.
    Email,
    /// No SMTP configured: the inviter passes this link on.
    Link(String),
    /// SMTP configured but the send failed (the reason is the mail server's or the network's).
    Failed(String),
}

/// A created (or re-sent) invitation and how its token travels.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The invitation.
    pub invitation: Invitation,
    /// Where the token went.
    pub delivery: Delivery,
}

/// What a token opens, for the page to show before accepting.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The invitation.
    pub invitation: Invitation,
    /// Its workspace.
    pub workspace: Workspace,
    /// Whether the email has an account already (then its password is asked, not a new one).
    pub account_exists: bool,
}

/// Input of [`Invitations::accept`] besides the token.
#[derive(Default, Clone)]
pub struct Acceptance {
    /// Display name of a new account (1–200 characters).
    pub display_name: Option<String>,
    /// A new account's password (policy checked), or the existing account's.
    pub password: Option<String>,
}

// By hand, so that the password never reaches a log line.
impl std::fmt::Debug for Acceptance {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Acceptance")
            .field("display_name", &self.display_name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What accepting did.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The invitation, now used.
    pub invitation: Invitation,
    /// The account that joined.
    pub account: Account,
    /// Whether the account was created now.
    pub account_created: bool,
    /// The workspace joined.
    pub workspace: Workspace,
    /// The new member record.
    pub member: Member,
}

/// Settings of [`Invitations`].
#[derive(Debug, Clone)]
pub struct InvitationOptions {
    /// How long a token stays valid.
    pub ttl: chrono::Duration,
    /// The URL people open (no trailing slash); links are `{public_url}/#invite=<token>`.
    pub public_url: String,
}

/// Invitations on behalf of callers (cheap to clone).
#[derive(Clone)]
pub struct Invitations {
    stores: Stores,
    options: InvitationOptions,
    mailer: Option<Arc<Mailer>>,
}

impl std::fmt::Debug for Invitations {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Invitations")
            .field("options", &self.options)
            .field("mailer", &self.mailer)
            .finish_non_exhaustive()
    }
}

impl Invitations {
    /// The service; without a mailer, tokens are handed back as links.
    pub fn new(stores: Stores, options: InvitationOptions, mailer: Option<Mailer>) -> Self {
        Self { stores, options, mailer: mailer.map(Arc::new) }
    }

    /// The same service sending mail with `mailer` (`None`: links only).
    pub fn with_mailer(self, mailer: Option<Mailer>) -> Self {
        Self { mailer: mailer.map(Arc::new), ..self }
    }

    /// Whether tokens go out by mail.
    pub fn sends_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// Invites `email` to the caller's workspace with `role` and delivers the token.
    pub async fn invite(&self, caller: &Principal, email: &str, role: MemberRole) -> Result<Issued, InvitationError> {
        may_manage(caller)?;
        may_grant(caller, role)?;
        let email = normalize_email(email).map_err(|error| ValidationErrors(vec![error]))?;
        let now = stored_precision(Utc::now());
        if self.stores.invitations.is_member_email(caller.workspace_id, &email).await? {
            return Err(InvitationError::AlreadyMember(email));
        }
        if self.stores.invitations.find_pending_invitation(caller.workspace_id, &email, now).await?.is_some() {
            return Err(InvitationError::AlreadyInvited(email));
        }
        let token = new_token()?;
        let invitation = Invitation {
            id: Uuid::now_v7(),
            workspace_id: caller.workspace_id,
            email,
            role,
            token_digest: digest(&token),
            invited_by: caller.subject.clone(),
            created_at: now,
            expires_at: now + self.options.ttl,
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        self.stores.invitations.insert_invitation(&invitation).await?;
        let delivery = self.deliver(caller, &invitation, &token).await?;
        Ok(Issued { invitation, delivery })
    }

    /// The caller's workspace's pending invitations, newest first.
    pub async fn list_pending(
        &self,
        caller: &Principal,
        page: PageRequest,
    ) -> Result<Page<Invitation>, InvitationError> {
        may_manage(caller)?;
        let now = stored_precision(Utc::now());
        Ok(self.stores.invitations.list_pending_invitations(caller.workspace_id, now, page).await?)
    }

    /// Revokes an invitation not yet accepted; its token stops working at once.
    pub async fn revoke(&self, caller: &Principal, id: Uuid) -> Result<Invitation, InvitationError> {
        may_manage(caller)?;
        let now = stored_precision(Utc::now());
        match self.stores.invitations.revoke_invitation(caller.workspace_id, id, now).await {
            Err(StoreError::NotFound) => return Err(InvitationError::NotFound),
            other => other?,
        }
        self.stores.invitations.get_invitation(caller.workspace_id, id).await?.ok_or(InvitationError::NotFound)
    }

    /// Makes a new token for an invitation not yet accepted nor revoked (an
    /// expired one too), valid for the full time again, and delivers it; the
    /// old token stops working. Re-sending an owner invitation takes an owner
    /// (the link it may hand back makes its holder an owner).
    pub async fn resend(&self, caller: &Principal, id: Uuid) -> Result<Issued, InvitationError> {
        may_manage(caller)?;
        let current =
            self.stores.invitations.get_invitation(caller.workspace_id, id).await?.ok_or(InvitationError::NotFound)?;
        may_grant(caller, current.role)?;
        let token = new_token()?;
        let token_digest = digest(&token);
        let expires_at = stored_precision(Utc::now()) + self.options.ttl;
        match self.stores.invitations.renew_invitation(caller.workspace_id, id, &token_digest, expires_at).await {
            Err(StoreError::NotFound) => return Err(InvitationError::NotFound),
            other => other?,
        }
        let invitation = Invitation { token_digest, expires_at, ..current };
        let delivery = self.deliver(caller, &invitation, &token).await?;
        Ok(Issued { invitation, delivery })
    }

    /// What a token opens: the workspace, the email and role, and whether the
    /// email has an account. Any token that cannot be accepted is [`InvitationError::Unknown`].
    pub async fn preview(&self, token: &str) -> Result<Preview, InvitationError> {
        let (invitation, workspace) = self.pending(token).await?;
        let account_exists = self.stores.accounts.find_account_by_email(&invitation.email).await?.is_some();
        Ok(Preview { invitation, workspace, account_exists })
    }

    /// Accepts the invitation of `token`.
    ///
    /// For an email without an account, `display_name` and `password` (which
    /// must pass the policy) create it. For an existing account, `password`
    /// must be that account's — unless `signed_in` (the request's session) is
    /// that very account. Wrong input is [`InvitationError::Invalid`] at
    /// `/displayName` or `/password`, and leaves the invitation pending.
    pub async fn accept(
        &self,
        token: &str,
        input: Acceptance,
        signed_in: Option<&Account>,
    ) -> Result<Accepted, InvitationError> {
        let (invitation, workspace) = self.pending(token).await?;
        let now = stored_precision(Utc::now());
        let (account, new_account) = match self.stores.accounts.find_account_by_email(&invitation.email).await? {
            Some(account) => {
                if account.disabled {
                    return Err(InvitationError::AccountDisabled);
                }
                if signed_in.is_none_or(|session| session.id != account.id) {
                    prove_password(&account, input.password).await?;
                }
                (account, None)
            }
            None => {
                let account = new_account(&invitation.email, input, now).await?;
                (account.clone(), Some(account))
            }
        };
        let member = Member {
            id: Uuid::now_v7(),
            workspace_id: workspace.id,
            user_id: account.id.to_string(),
            display_name: account.display_name.clone(),
            email: Some(account.email.clone()),
            role: invitation.role,
            weekly_capacity_hours: DEFAULT_WEEKLY_CAPACITY_HOURS,
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        member.validate()?;
        let entry = ActivityEntry {
            id: Uuid::now_v7(),
            workspace_id: workspace.id,
            project_id: None,
            actor: account.id.to_string(),
            action: ActivityAction::MemberAdded,
            target_kind: TargetKind::Member,
            target_id: member.id,
            target_name: member.display_name.clone(),
            details: serde_json::json!({
                "role": invitation.role.as_str(),
                "invitation": invitation.id,
                "invitedBy": invitation.invited_by,
            }),
            at: now,
        };
        let digest = digest(token);
        let stored = self
            .stores
            .invitations
            .accept_invitation(&digest, now, account.id, new_account.as_ref(), &member, &entry)
            .await;
        let invitation = match stored {
            Ok(invitation) => invitation,
            // Used, revoked or expired since it was read (a racing accept won).
            Err(StoreError::NotFound) => return Err(InvitationError::Unknown),
            Err(StoreError::Duplicate { path }) if path == "/userId" => {
                return Err(InvitationError::AlreadyMember(account.email));
            }
            Err(StoreError::Duplicate { path }) if path == "/email" => {
                return Err(ValidationErrors(vec![FieldError::new(
                    "/email",
                    "an account with this email was created meanwhile; open the link again",
                )])
                .into());
            }
            Err(other) => return Err(other.into()),
        };
        Ok(Accepted { invitation, account_created: new_account.is_some(), account, workspace, member })
    }

    /// The pending invitation of `token` and its usable workspace.
    async fn pending(&self, token: &str) -> Result<(Invitation, Workspace), InvitationError> {
        // A token of the wrong shape cannot be one of ours; no need to ask the store.
        if token.len() != TOKEN_CHARS
            || !token.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(&byte))
        {
            return Err(InvitationError::Unknown);
        }
        let now = Utc::now();
        let invitation = self.stores.invitations.find_invitation_by_digest(&digest(token)).await?;
        let invitation = invitation.filter(|invitation| invitation.is_pending(now)).ok_or(InvitationError::Unknown)?;
        let workspace =
            self.stores.workspaces.get_workspace(invitation.workspace_id).await?.ok_or(InvitationError::Unknown)?;
        if workspace.disabled {
            return Err(InvitationError::WorkspaceDisabled);
        }
        Ok((invitation, workspace))
    }

    /// Sends the token by mail when a mailer is configured, else hands back the link.
    async fn deliver(
        &self,
        caller: &Principal,
        invitation: &Invitation,
        token: &str,
    ) -> Result<Delivery, InvitationError> {
        let link = self.link(token);
        let Some(mailer) = &self.mailer else { return Ok(Delivery::Link(link)) };
        let workspace = self.stores.workspaces.get_workspace(invitation.workspace_id).await?;
        let workspace_name = workspace.map(|workspace| workspace.name).unwrap_or_else(|| "a workspace".to_owned());
        let inviter = self
            .stores
            .members
            .find_member_by_user(caller.workspace_id, &caller.subject)
            .await?
            .map(|member| member.display_name);
        let mail = invitation_mail(invitation, &workspace_name, inviter.as_deref(), &link);
        match mailer.send(mail).await {
            Ok(()) => {
                tracing::info!(invitation = %invitation.id, workspace = %invitation.workspace_id, "invitation mailed");
                Ok(Delivery::Email)
            }
            Err(error) => {
                tracing::warn!(invitation = %invitation.id, %error, "invitation mail not sent");
                Ok(Delivery::Failed(error.to_string()))
            }
        }
    }

    /// The link that opens the accept view for `token`.
    fn link(&self, token: &str) -> String {
        format!("{}/#invite={token}", self.options.public_url.trim_end_matches('/'))
    }
}

/// The message inviting `invitation.email`.
fn invitation_mail(invitation: &Invitation, workspace: &str, inviter: Option<&str>, link: &str) -> OutgoingMail {
    let who = inviter.unwrap_or("An administrator");
    let expires = invitation.expires_at.format("%Y-%m-%d %H:%M UTC");
    let body = format!(
        "{who} invited you to join the workspace \"{workspace}\" on agentdeck as {role}.\n\n\
         Open this link to accept:\n\n{link}\n\n\
         The link works once and until {expires}. If you did not expect this invitation, ignore this mail.\n",
        role = invitation.role.as_str(),
    );
    OutgoingMail { to: invitation.email.clone(), subject: format!("You are invited to {workspace} on agentdeck"), body }
}

/// Owners and admins manage invitations.
fn may_manage(caller: &Principal) -> Result<(), InvitationError> {
    match caller.role {
        Role::Owner | Role::Admin => Ok(()),
        Role::Member | Role::Service => {
            Err(InvitationError::Forbidden("only owners and admins manage invitations".into()))
        }
    }
}

/// Only an owner hands out the owner role.
fn may_grant(caller: &Principal, role: MemberRole) -> Result<(), InvitationError> {
    if role == MemberRole::Owner && caller.role != Role::Owner {
        return Err(InvitationError::Forbidden("only an owner may invite an owner".into()));
    }
    Ok(())
}

/// Checks `password` against an existing account's hash.
async fn prove_password(account: &Account, password: Option<String>) -> Result<(), InvitationError> {
    let invalid =
        |message: &str| InvitationError::Invalid(ValidationErrors(vec![FieldError::new("/password", message)]));
    let Some(password) = password.filter(|password| !password.is_empty()) else {
        return Err(invalid("is required: the password of your account (or sign in first)"));
    };
    let Some(hash) = account.password_hash.clone() else {
        return Err(invalid("this account signs in without a password; sign in first, then open the link again"));
    };
    if password::verify_password(password, hash).await? {
        Ok(())
    } else {
        Err(invalid("is not the password of this account"))
    }
}

/// The account a new invitee creates: name and password checked, password hashed.
async fn new_account(email: &str, input: Acceptance, now: DateTime<Utc>) -> Result<Account, InvitationError> {
    let display_name = input.display_name.unwrap_or_default();
    let new = NewAccount { email: email.to_owned(), display_name };
    let mut errors = new.clone().into_account(None, now).err().map(|errors| errors.0).unwrap_or_default();
    let password = input.password.unwrap_or_default();
    if let Err(more) = check_password(&password) {
        errors.extend(more.0);
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors).into());
    }
    let hash = password::hash_password(password).await?;
    Ok(new.into_account(Some(hash), now)?)
}

/// A new token: 32 random bytes, unpadded base64url.
fn new_token() -> Result<String, InvitationError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| InvitationError::Random(error.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a token: its SHA-256, lowercase hex.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on a broken fixture")]

    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let first = new_token().unwrap();
        let second = new_token().unwrap();
        assert_eq!(first.len(), TOKEN_CHARS);
        assert!(first.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'), "{first}");
        assert_ne!(first, second);
        assert_eq!(digest(&first).len(), 64);
        assert_ne!(digest(&first), first, "the digest is not the token");
    }

    #[test]
    fn only_owners_grant_owner_and_members_manage_nothing() {
        let principal = |role| Principal { subject: "x".into(), workspace_id: Uuid::now_v7(), role };
        assert!(may_grant(&principal(Role::Owner), MemberRole::Owner).is_ok());
        assert!(may_grant(&principal(Role::Admin), MemberRole::Admin).is_ok());
        assert!(matches!(may_grant(&principal(Role::Admin), MemberRole::Owner), Err(InvitationError::Forbidden(_))));
        assert!(may_manage(&principal(Role::Admin)).is_ok());
        assert!(matches!(may_manage(&principal(Role::Member)), Err(InvitationError::Forbidden(_))));
        assert!(matches!(may_manage(&principal(Role::Service)), Err(InvitationError::Forbidden(_))));
    }

    #[test]
    fn the_mail_names_the_workspace_role_inviter_and_link() {
        let now = Utc::now();
        let invitation = Invitation {
            id: Uuid::now_v7(),
            workspace_id: Uuid::now_v7(),
            email: "bob@example.org".into(),
            role: MemberRole::Admin,
            token_digest: String::new(),
            invited_by: "x".into(),
            created_at: now,
            expires_at: now,
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        let mail = invitation_mail(&invitation, "Acme", Some("Ada"), "https://dash.example/#invite=abc");
        assert_eq!(mail.to, "bob@example.org");
        assert_eq!(mail.subject, "You are invited to Acme on agentdeck");
        for part in ["Ada invited you", "\"Acme\"", "as admin", "https://dash.example/#invite=abc"] {
            assert!(mail.body.contains(part), "{part}: {}", mail.body);
        }
    }
}
