//! Invitations: `/api/workspace/invitations` for owners and admins (invite,
//! list the pending ones, revoke, resend), and `/api/invitations/…` for the
//! invitee, who has no credential yet besides the token (preview, accept).
//!
//! The token arrives in the body, never in the URL: the link puts it in the
//! page's fragment (`#invite=…`), which the browser keeps to itself, and the
//! page posts it. Accepting signs the person in (a session, as a sign-in
//! starts one, with the method `invitation` in the auth log), so it is guarded
//! like a sign-in form: the request must come from a trusted `Origin` (or,
//! without one, a trusted `Referer`) against login CSRF, and it counts against
//! the sign-in limit of the client's address, since it may check a password.
//! Creating, re-sending, revoking and accepting are written to the auth log.

use agentdeck_domain::auth::Principal;
use agentdeck_domain::page::Page;
use agentdeck_domain::records::{Account, AuthEventKind, Invitation, Member, MemberRole, Workspace};
use agentdeck_services::accounts::invitations::{Acceptance, Delivery, Issued};
use agentdeck_services::accounts::sessions;
use agentdeck_storage::ratelimit::RouteClass;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Caller, ClientAddress, IdPath};
use crate::http::ratelimit::limit_address;
use crate::http::session::{self, Me, client_info, session_account, start_session};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(resend_invitation))
        .routes(routes!(preview_invitation))
        .routes(routes!(accept_invitation))
}

/// Body of `POST /api/workspace/invitations`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewInvitation {
    /// The invitee's email (normalised: trimmed, lowercased).
    #[schema(schema_with = agentdeck_domain::records::wire_schema::account_email)]
    email: String,
    /// The role the invitee gets; only an owner may invite an owner.
    role: MemberRole,
}

/// How the token travelled.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeliveryStatus {
    /// Mailed to the invitee.
    Email,
    /// No SMTP configured: `link` is for the inviter to pass on.
    Link,
    /// SMTP is configured but the send failed (`reason`); resend to try again.
    Failed,
}

/// Where an invitation's token went.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryView {
    /// `email`, `link` or `failed`.
    status: DeliveryStatus,
    /// With `link`: the link that accepts the invitation (`{public_url}/#invite=<token>`), shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// With `failed`: why the mail was not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// A created or re-sent invitation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssuedInvitation {
    /// The invitation.
    invitation: Invitation,
    /// Where its token went.
    delivery: DeliveryView,
}

impl From<Issued> for IssuedInvitation {
    fn from(issued: Issued) -> Self {
        let delivery = match issued.delivery {
            Delivery::Email => DeliveryView { status: DeliveryStatus::Email, link: None, reason: None },
            Delivery::Link(link) => DeliveryView { status: DeliveryStatus::Link, link: Some(link), reason: None },
            Delivery::Failed(reason) => {
                DeliveryView { status: DeliveryStatus::Failed, link: None, reason: Some(reason) }
            }
        };
        Self { invitation: issued.invitation, delivery }
    }
}

/// Query parameters of `GET /api/workspace/invitations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListInvitationsParams {
    /// Items per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Body of `POST /api/invitations/preview`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct InvitationToken {
    /// The token from the link's `#invite=` fragment.
    #[schema(max_length = 64)]
    token: String,
}

/// The workspace an invitation opens, as the invitee sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvitedWorkspace {
    /// Workspace id.
    id: uuid::Uuid,
    /// Its name.
    name: String,
}

/// What a token opens.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvitationPreview {
    /// The workspace.
    workspace: InvitedWorkspace,
    /// The invited email; the account that joins has it.
    email: String,
    /// The role the invitee gets.
    role: MemberRole,
    /// Until when the link works.
    expires_at: DateTime<Utc>,
    /// Whether the email has an account (accepting then asks for its password, not a new one).
    account_exists: bool,
    /// Whether this browser is signed in (session cookie) as that account: accepting needs no password then.
    signed_in: bool,
}

/// Body of `POST /api/invitations/accept`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AcceptInvitation {
    /// The token from the link's `#invite=` fragment.
    #[schema(max_length = 64)]
    token: String,
    /// A new account's display name (1–200 characters); ignored for an existing account.
    #[schema(max_length = 200)]
    display_name: Option<String>,
    /// A new account's password (at least 12 characters), or the existing account's own.
    #[schema(max_length = 1024)]
    password: Option<String>,
}

/// What accepting did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AcceptedInvitation {
    /// The account that joined.
    account: Account,
    /// Whether the account was created now.
    account_created: bool,
    /// The workspace joined.
    workspace: Workspace,
    /// The new member record.
    member: Member,
    /// The session the answer's cookie carries, as `GET /api/me` would answer (its `csrfToken` included).
    me: Me,
}

/// Writes an auth-log entry about an invitation (a failure to write is logged, not the request's).
async fn log_invitation(
    state: &AppState,
    kind: AuthEventKind,
    headers: &HeaderMap,
    client: &ClientAddress,
    by: Option<&Principal>,
    invitation: &Invitation,
    detail: String,
) {
    let mut event = sessions::event(kind, &client_info(headers, client), Utc::now());
    event.account_id = match (kind, by) {
        (AuthEventKind::InvitationAccepted, _) => invitation.accepted_by,
        (_, Some(principal)) => uuid::Uuid::parse_str(&principal.subject).ok(),
        _ => None,
    };
    event.workspace_id = Some(invitation.workspace_id);
    event.email = Some(invitation.email.clone());
    event.detail = Some(detail);
    if let Err(error) = sessions::log_event(&state.stores, event).await {
        tracing::warn!(%error, kind = %kind, "could not write the auth log");
    }
}

/// Lists the workspace's pending invitations, newest first (owners and admins).
#[utoipa::path(get, path = "/api/workspace/invitations", tag = "invitations", params(ListInvitationsParams),
    security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<Invitation>),
        (status = 403, description = "The caller's role may not do this", body = ErrorBody)))]
async fn list_invitations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListInvitationsParams>,
) -> Result<Json<Page<Invitation>>, ApiError> {
    let page = page_request(params.limit, params.cursor.as_deref())?;
    Ok(Json(state.invitations.list_pending(&caller, page).await?))
}

/// Invites a person by email with a role (owners and admins; only an owner invites an owner).
///
/// With SMTP configured the link is mailed (`delivery.status` = `email`, or
/// `failed` with the reason: the invitation exists either way and can be
/// re-sent); without, it is in `delivery.link` for the inviter to pass on.
#[utoipa::path(post, path = "/api/workspace/invitations", tag = "invitations", request_body = NewInvitation,
    security(("bearer" = [])),
    responses((status = 201, description = "Created; `delivery` says where the link went", body = IssuedInvitation),
        (status = 403, description = "The caller's role may not do this", body = ErrorBody),
        (status = 409, description = "Already a member, or already invited", body = ErrorBody)))]
async fn create_invitation(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NewInvitation>,
) -> Result<impl IntoResponse, ApiError> {
    let issued = state.invitations.invite(&caller, &input.email, input.role).await?;
    let detail =
        format!("role {}, by {}, delivery {}", issued.invitation.role.as_str(), caller.subject, delivery_name(&issued));
    log_invitation(
        &state,
        AuthEventKind::InvitationCreated,
        &headers,
        &client,
        Some(&caller),
        &issued.invitation,
        detail,
    )
    .await;
    Ok((StatusCode::CREATED, Json(IssuedInvitation::from(issued))))
}

/// How the token went, for the auth log.
fn delivery_name(issued: &Issued) -> &'static str {
    match issued.delivery {
        Delivery::Email => "email",
        Delivery::Link(_) => "link",
        Delivery::Failed(_) => "failed",
    }
}

/// Revokes an invitation not yet accepted (owners and admins); its link stops working.
#[utoipa::path(delete, path = "/api/workspace/invitations/{id}", tag = "invitations", params(("id" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked"),
        (status = 403, description = "The caller's role may not do this", body = ErrorBody),
        (status = 404, description = "No open invitation with this id in the caller's workspace", body = ErrorBody)))]
async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    let invitation = state.invitations.revoke(&caller, id).await?;
    let detail = format!("by {}", caller.subject);
    log_invitation(&state, AuthEventKind::InvitationRevoked, &headers, &client, Some(&caller), &invitation, detail)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a new link for an invitation not yet accepted (expired ones too) and
/// delivers it; the old link stops working. Re-sending an owner invitation takes an owner.
#[utoipa::path(post, path = "/api/workspace/invitations/{id}/resend", tag = "invitations",
    params(("id" = uuid::Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Re-sent; `delivery` says where the new link went", body = IssuedInvitation),
        (status = 403, description = "The caller's role may not do this", body = ErrorBody),
        (status = 404, description = "No open invitation with this id in the caller's workspace", body = ErrorBody)))]
async fn resend_invitation(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddress,
    headers: HeaderMap,
    IdPath(id): IdPath,
) -> Result<Json<IssuedInvitation>, ApiError> {
    let issued = state.invitations.resend(&caller, id).await?;
    let detail = format!("resent, by {}, delivery {}", caller.subject, delivery_name(&issued));
    log_invitation(
        &state,
        AuthEventKind::InvitationCreated,
        &headers,
        &client,
        Some(&caller),
        &issued.invitation,
        detail,
    )
    .await;
    Ok(Json(IssuedInvitation::from(issued)))
}

/// What an invitation's token opens: workspace, email, role, and whether the email has an account.
#[utoipa::path(post, path = "/api/invitations/preview", tag = "invitations", request_body = InvitationToken,
    responses((status = 200, description = "OK", body = InvitationPreview),
        (status = 403, description = "The workspace is disabled", body = ErrorBody),
        (status = 404, description = "This invitation is unknown, expired or already used", body = ErrorBody)))]
async fn preview_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<InvitationToken>,
) -> Result<Json<InvitationPreview>, ApiError> {
    let preview = state.invitations.preview(&input.token).await?;
    let signed_in = session_account(&state, &headers)
        .await?
        .is_some_and(|account| account.email == preview.invitation.email && !account.disabled);
    Ok(Json(InvitationPreview {
        workspace: InvitedWorkspace { id: preview.workspace.id, name: preview.workspace.name },
        email: preview.invitation.email,
        role: preview.invitation.role,
        expires_at: preview.invitation.expires_at,
        account_exists: preview.account_exists,
        signed_in,
    }))
}

/// Accepts an invitation: creates the account (new email: `displayName` and
/// `password`) or proves it (existing account: its `password`, or a session
/// cookie of that account), adds the member record and signs the browser in
/// (Set-Cookie; the answer's `me` is what `GET /api/me` would say). Needs a
/// trusted `Origin` (or `Referer`), like a sign-in form.
#[utoipa::path(post, path = "/api/invitations/accept", tag = "invitations", request_body = AcceptInvitation,
    responses((status = 200, description = "Joined and signed in; Set-Cookie carries the session", body = AcceptedInvitation),
        (status = 403, description = "No trusted Origin, or the account or workspace is disabled", body = ErrorBody),
        (status = 404, description = "This invitation is unknown, expired or already used", body = ErrorBody),
        (status = 409, description = "Already a member of this workspace", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address; see Retry-After", body = ErrorBody)))]
async fn accept_invitation(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    ApiJson(input): ApiJson<AcceptInvitation>,
) -> Result<Response, ApiError> {
    session::check_origin(&state, &headers)?;
    // An existing account's password is checked here: limited like sign-in, per client address.
    if let Some(refusal) = limit_address(&state, RouteClass::SignIn, &client).await {
        return Ok(refusal);
    }
    let signed_in = session_account(&state, &headers).await?;
    let acceptance = Acceptance { display_name: input.display_name, password: input.password };
    let accepted = state.invitations.accept(&input.token, acceptance, signed_in.as_ref()).await?;
    let detail = format!(
        "role {}, {}",
        accepted.invitation.role.as_str(),
        if accepted.account_created { "new account" } else { "existing account" }
    );
    log_invitation(&state, AuthEventKind::InvitationAccepted, &headers, &client, None, &accepted.invitation, detail)
        .await;
    let (cookie, me) =
        start_session(&state, &headers, &client, &accepted.account, Some(accepted.workspace.id), "invitation").await?;
    let answer = AcceptedInvitation {
        account: accepted.account,
        account_created: accepted.account_created,
        workspace: accepted.workspace,
        member: accepted.member,
        me,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(answer)).into_response())
}
