package api

// Teams, invitations and the caller's account security (sessions,
// two-factor sign-in, password reset). authorize has checked the caller's
// role on the path's account for the account routes.

import (
	"net/http"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// teamWorkspaceBody is the body of PUT …/teams/{team_id}/workspaces/{w}.
type teamWorkspaceBody struct {
	// Role is the team's role on the workspace; empty removes it.
	Role model.Role `json:"role"`
}

// tokenBody carries a one-time link's token.
type tokenBody struct {
	Token string `json:"token" required:"true"`
}

// resetRequest is the body of POST /auth/password_reset.
type resetRequest struct {
	Email string `json:"email" required:"true"`
}

// resetConfirm is the body of POST /auth/password_reset/confirm.
type resetConfirm struct {
	Token    string `json:"token" required:"true"`
	Password string `json:"password" required:"true"`
}

// codeBody carries a two-factor code.
type codeBody struct {
	Code string `json:"code" required:"true"`
}

// totpStatus is GET /me/totp.
type totpStatus struct {
	Enabled bool `json:"enabled"`
}

// recoveryCodesBody is the answer of enabling two-factor sign-in.
type recoveryCodesBody struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// acceptedBody answers an accepted invitation.
type acceptedBody struct {
	tenancy.Accepted
	// CSRFToken is set when accepting created the user and signed them in.
	CSRFToken string `json:"csrf_token,omitempty"`
}

func teamRoutes() []route {
	acc := idParam("account_id", "The account")
	team := idParam("team_id", "The team")
	user := idParam("user_id", "The member")
	wsp := idParam("workspace_id", "The workspace")
	inv := idParam("id", "The invitation")
	sess := idParam("id", "The session")
	t := func(c *call) *tenancy.Service { return c.srv.cfg.Tenancy }
	return []route{
		op(accountRead, "GET", "/accounts/{account_id}/teams", "Cloud", "An account's teams with their members and workspace roles", 200, func(c *call, _ *noBody) ([]model.Team, error) {
			id, _ := c.account()
			return t(c).Teams(c.ctx, id)
		}, acc),
		op(accountManage, "POST", "/accounts/{account_id}/teams", "Cloud", "Create a team (admins)", 201, func(c *call, b *tenancy.TeamInput) (model.Team, error) {
			id, _ := c.account()
			return t(c).CreateTeam(c.ctx, id, *b)
		}, acc),
		op(accountRead, "GET", "/accounts/{account_id}/teams/{team_id}", "Cloud", "Read a team", 200, func(c *call, _ *noBody) (model.Team, error) {
			id, _ := c.account()
			return t(c).Team(c.ctx, id, c.id("team_id"))
		}, acc, team),
		op(accountManage, "PATCH", "/accounts/{account_id}/teams/{team_id}", "Cloud", "Rename a team or change its description (admins)", 200, func(c *call, b *tenancy.TeamInput) (model.Team, error) {
			id, _ := c.account()
			return t(c).UpdateTeam(c.ctx, id, c.id("team_id"), *b)
		}, acc, team),
		op(accountManage, "DELETE", "/accounts/{account_id}/teams/{team_id}", "Cloud", "Delete a team; its members lose what it granted (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _ := c.account()
			return noContent{}, t(c).DeleteTeam(c.ctx, id, c.id("team_id"))
		}, acc, team),
		op(accountManage, "PUT", "/accounts/{account_id}/teams/{team_id}/members/{user_id}", "Cloud", "Put a member of the account in the team (admins)", 200, func(c *call, _ *noBody) (model.Team, error) {
			id, _ := c.account()
			return t(c).AddTeamMember(c.ctx, id, c.id("team_id"), c.id("user_id"))
		}, acc, team, user),
		op(accountManage, "DELETE", "/accounts/{account_id}/teams/{team_id}/members/{user_id}", "Cloud", "Take a user out of the team (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _ := c.account()
			return noContent{}, t(c).RemoveTeamMember(c.ctx, id, c.id("team_id"), c.id("user_id"))
		}, acc, team, user),
		op(accountManage, "PUT", "/accounts/{account_id}/teams/{team_id}/workspaces/{workspace_id}", "Cloud", "Give the team a role on a workspace (admins; empty role removes it)", 204, func(c *call, b *teamWorkspaceBody) (noContent, error) {
			id, _ := c.account()
			return noContent{}, t(c).SetTeamWorkspaceRole(c.ctx, id, c.id("team_id"), c.id("workspace_id"), b.Role)
		}, acc, team, wsp),

		op(accountManage, "GET", "/accounts/{account_id}/invitations", "Cloud", "Open invitations (admins)", 200, func(c *call, _ *noBody) ([]model.Invitation, error) {
			id, _ := c.account()
			return t(c).Invitations(c.ctx, id)
		}, acc),
		op(accountManage, "POST", "/accounts/{account_id}/invitations", "Cloud", "Invite a person by e-mail with a role and optionally a team: a one-time link valid 7 days is e-mailed (or returned, and printed to the server log, when no SMTP server is configured) (admins; owners for the owner role)", 201, func(c *call, b *tenancy.InvitationInput) (tenancy.SentInvitation, error) {
			id, role := c.account()
			p, err := c.principal()
			if err != nil {
				return tenancy.SentInvitation{}, err
			}
			return t(c).Invite(c.ctx, p, role, id, *b)
		}, acc),
		op(accountManage, "DELETE", "/accounts/{account_id}/invitations/{id}", "Cloud", "Revoke an open invitation: its link stops working (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _ := c.account()
			return noContent{}, t(c).RevokeInvitation(c.ctx, id, c.id("id"))
		}, acc, inv),
		op(anyone, "POST", "/auth/invitations/inspect", "Cloud", "Describe the invitation of a link's token (404 unknown, 409 used, 410 expired or revoked)", 200, func(c *call, b *tokenBody) (tenancy.InvitationInfo, error) {
			return t(c).InspectInvitation(c.ctx, b.Token)
		}),
		op(anyone, "POST", "/auth/invitations/accept", "Cloud", "Accept an invitation: signed in as the invited e-mail, or with a name and password for a new user (then signed in); the link works once", 200, acceptInvitation),

		op(anyone, "POST", "/auth/password_reset", "Cloud", "E-mail a one-time password reset link (valid one hour) to the user with this e-mail; the answer is the same whether or not there is one (throttled)", 202, func(c *call, b *resetRequest) (noContent, error) {
			return noContent{}, t(c).RequestPasswordReset(c.ctx, b.Email, clientAddr(c.r))
		}),
		op(anyone, "POST", "/auth/password_reset/confirm", "Cloud", "Set a new password with a reset link's token; every session of the user ends (404 unknown, 409 used, 410 expired)", 204, func(c *call, b *resetConfirm) (noContent, error) {
			_, err := t(c).ResetPassword(c.ctx, b.Token, b.Password, clientAddr(c.r))
			return noContent{}, err
		}),

		op(authenticated, "GET", "/me/sessions", "Cloud", "The caller's active browser sessions (current marked)", 200, func(c *call, _ *noBody) ([]tenancy.SessionInfo, error) {
			p, err := c.person()
			if err != nil {
				return nil, err
			}
			return t(c).Sessions(c.ctx, p)
		}),
		op(authenticated, "DELETE", "/me/sessions/{id}", "Cloud", "End one of the caller's sessions", 204, func(c *call, _ *noBody) (noContent, error) {
			p, err := c.person()
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, t(c).RevokeSession(c.ctx, p.User.ID, c.id("id"))
		}, sess),
		op(authenticated, "GET", "/me/totp", "Cloud", "Whether two-factor sign-in is on", 200, func(c *call, _ *noBody) (totpStatus, error) {
			p, err := c.person()
			if err != nil {
				return totpStatus{}, err
			}
			on, err := t(c).TOTPStatus(c.ctx, p.User.ID)
			return totpStatus{Enabled: on}, err
		}),
		op(authenticated, "POST", "/me/totp", "Cloud", "Start two-factor enrolment: a new TOTP secret and otpauth:// URL for an authenticator app (on only after confirm)", 201, func(c *call, _ *noBody) (tenancy.TOTPEnrolment, error) {
			p, err := c.person()
			if err != nil {
				return tenancy.TOTPEnrolment{}, err
			}
			return t(c).BeginTOTP(c.ctx, p.User)
		}),
		op(authenticated, "POST", "/me/totp/confirm", "Cloud", "Turn two-factor sign-in on with a current code; answers the recovery codes, shown once", 200, func(c *call, b *codeBody) (recoveryCodesBody, error) {
			p, err := c.person()
			if err != nil {
				return recoveryCodesBody{}, err
			}
			codes, err := t(c).ConfirmTOTP(c.ctx, p.User, b.Code, clientAddr(c.r))
			return recoveryCodesBody{RecoveryCodes: codes}, err
		}),
		op(authenticated, "POST", "/me/totp/disable", "Cloud", "Turn two-factor sign-in off (needs a current or recovery code)", 204, func(c *call, b *codeBody) (noContent, error) {
			p, err := c.person()
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, t(c).DisableTOTP(c.ctx, p.User, b.Code, clientAddr(c.r))
		}),
	}
}

// acceptInvitation accepts as the signed-in person when a session (or key)
// comes with the request, else as a new user.
func acceptInvitation(c *call, b *tenancy.AcceptInvitation) (acceptedBody, error) {
	t := c.srv.cfg.Tenancy
	var signedIn *tenancy.Principal
	if c.r.Header.Get("Authorization") != "" || hasCookie(c.r, sessionCookie) {
		p, err := authenticateRequest(c.ctx, t, c.r)
		if err != nil {
			return acceptedBody{}, err
		}
		if err := checkCSRF(c.r, p); err != nil {
			return acceptedBody{}, err
		}
		signedIn = &p
	}
	res, err := t.AcceptInvitation(c.ctx, *b, signedIn, clientAddr(c.r))
	if err != nil {
		return acceptedBody{}, err
	}
	out := acceptedBody{Accepted: res}
	if res.SessionToken != "" {
		setSession(c, res.SessionToken)
		out.CSRFToken = tenancy.CSRFToken(res.SessionToken)
	}
	return out, nil
}

// hasCookie reports whether the request carries the named cookie.
func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}
