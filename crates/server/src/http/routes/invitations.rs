//! Invitations: `/api/workspace/invitations` for owners and admins (invite,
//! list the pending ones, revoke, resend), and `/api/invitations/…` for the
//! invitee, who has no credential yet besides the token (preview, accept).
//!
//! The token arrives in the body, never in the URL: the link puts it in the
//! page's fragment (`#invite=…`), which the browser keeps to itself, and the
//! page posts it. Accepting signs the person in, so it is guarded like a
//! sign-in form against login CSRF: the request must come from a trusted
//! `Origin` (or, without one, a trusted `Referer`).

use agentdeck_domain::page::Page;
use agentdeck_domain::records::{Account, Invitation, Member, MemberRole, Workspace};
use agentdeck_services::accounts::invitations::{Acceptance, Delivery, Issued};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::paging::page_request;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiQuery, Caller, IdPath};
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
    ApiJson(input): ApiJson<NewInvitation>,
) -> Result<impl IntoResponse, ApiError> {
    let issued = state.invitations.invite(&caller, &input.email, input.role).await?;
    tracing::info!(
        kind = "invitation_created",
        invitation = %issued.invitation.id,
        workspace = %caller.workspace_id,
        by = %caller.subject,
        role = issued.invitation.role.as_str(),
        "auth event"
    );
    Ok((StatusCode::CREATED, Json(IssuedInvitation::from(issued))))
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
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    let invitation = state.invitations.revoke(&caller, id).await?;
    tracing::info!(kind = "invitation_revoked", invitation = %invitation.id, workspace = %caller.workspace_id,
        by = %caller.subject, "auth event");
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
    IdPath(id): IdPath,
) -> Result<Json<IssuedInvitation>, ApiError> {
    let issued = state.invitations.resend(&caller, id).await?;
    tracing::info!(kind = "invitation_created", invitation = %issued.invitation.id, workspace = %caller.workspace_id,
        by = %caller.subject, resend = true, "auth event");
    Ok(Json(IssuedInvitation::from(issued)))
}

/// What an invitation's token opens: workspace, email, role, and whether the email has an account.
#[utoipa::path(post, path = "/api/invitations/preview", tag = "invitations", request_body = InvitationToken,
    responses((status = 200, description = "OK", body = InvitationPreview),
        (status = 403, description = "The workspace is disabled", body = ErrorBody),
        (status = 404, description = "This invitation is unknown, expired or already used", body = ErrorBody)))]
async fn preview_invitation(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<InvitationToken>,
) -> Result<Json<InvitationPreview>, ApiError> {
    let preview = state.invitations.preview(&input.token).await?;
    Ok(Json(InvitationPreview {
        workspace: InvitedWorkspace { id: preview.workspace.id, name: preview.workspace.name },
        email: preview.invitation.email,
        role: preview.invitation.role,
        expires_at: preview.invitation.expires_at,
        account_exists: preview.account_exists,
    }))
}

/// Accepts an invitation: creates the account (new email: `displayName` and
/// `password`) or proves it (existing account: its `password`), and adds the
/// member record. Needs a trusted `Origin` (or `Referer`): it signs the person in.
#[utoipa::path(post, path = "/api/invitations/accept", tag = "invitations", request_body = AcceptInvitation,
    responses((status = 200, description = "Joined", body = AcceptedInvitation),
        (status = 403, description = "No trusted Origin, or the account or workspace is disabled", body = ErrorBody),
        (status = 404, description = "This invitation is unknown, expired or already used", body = ErrorBody),
        (status = 409, description = "Already a member of this workspace", body = ErrorBody)))]
async fn accept_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<AcceptInvitation>,
) -> Result<Json<AcceptedInvitation>, ApiError> {
    check_origin(&state, &headers)?;
    let acceptance = Acceptance { display_name: input.display_name, password: input.password };
    let accepted = state.invitations.accept(&input.token, acceptance, None).await?;
    tracing::info!(kind = "invitation_accepted", invitation = %accepted.invitation.id,
        workspace = %accepted.workspace.id, account = %accepted.account.id,
        account_created = accepted.account_created, "auth event");
    Ok(Json(AcceptedInvitation {
        account: accepted.account,
        account_created: accepted.account_created,
        workspace: accepted.workspace,
        member: accepted.member,
    }))
}

/// Refuses a request whose `Origin` (or, without one, `Referer`) is not one of
/// the server's trusted origins: a page elsewhere must not sign a browser in.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()).map(str::to_owned).or_else(|| {
        let referer = headers.get(header::REFERER)?.to_str().ok()?;
        let url = url::Url::parse(referer).ok()?;
        Some(url.origin().ascii_serialization())
    });
    match origin {
        Some(origin) if state.origins.allows_origin(&origin) => Ok(()),
        Some(origin) => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("the request comes from {origin:?}, which is not an origin of this server"),
        )),
        None => Err(ApiError::new(ErrorCode::Forbidden, "an Origin (or Referer) header of this server is required")),
    }
}
