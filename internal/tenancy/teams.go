package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/mail"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// --- teams ------------------------------------------------------------------

// TeamInput is the body of team create and update.
type TeamInput struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

// CreateTeam adds a team to an account.
func (s *Service) CreateTeam(ctx context.Context, accountID model.ID, in TeamInput) (model.Team, error) {
	name := strings.TrimSpace(in.Name)
	if err := checkName("name", name); err != nil {
		return model.Team{}, err
	}
	t := model.Team{ID: model.NewID(), AccountID: accountID, Name: name, Created: model.NewTime(s.now())}
	if in.Description != nil {
		t.Description = *in.Description
	}
	if err := s.st.TeamCreate(ctx, t); err != nil {
		return t, publicStoreError(err, fmt.Sprintf("team %q", name))
	}
	return s.Team(ctx, accountID, t.ID)
}

// Team returns a team of an account with its members and grants.
func (s *Service) Team(ctx context.Context, accountID, teamID model.ID) (model.Team, error) {
	t, err := s.st.TeamGet(ctx, accountID, teamID)
	return t, publicStoreError(err, "team")
}

// Teams lists an account's teams.
func (s *Service) Teams(ctx context.Context, accountID model.ID) ([]model.Team, error) {
	return s.st.TeamList(ctx, accountID)
}

// UpdateTeam renames a team or changes its description.
func (s *Service) UpdateTeam(ctx context.Context, accountID, teamID model.ID, in TeamInput) (model.Team, error) {
	t, err := s.Team(ctx, accountID, teamID)
	if err != nil {
		return t, err
	}
	if in.Name != "" {
		if err := checkName("name", strings.TrimSpace(in.Name)); err != nil {
			return t, err
		}
		t.Name = strings.TrimSpace(in.Name)
	}
	if in.Description != nil {
		t.Description = *in.Description
	}
	if err := s.st.TeamUpdate(ctx, t); err != nil {
		return t, publicStoreError(err, fmt.Sprintf("team %q", t.Name))
	}
	return s.Team(ctx, accountID, teamID)
}

// DeleteTeam removes a team; its members lose what it granted at once.
func (s *Service) DeleteTeam(ctx context.Context, accountID, teamID model.ID) error {
	if err := s.st.TeamDelete(ctx, accountID, teamID); err != nil {
		return publicStoreError(err, "team")
	}
	s.invalidate()
	return nil
}

// AddTeamMember puts a member of the account in one of its teams.
func (s *Service) AddTeamMember(ctx context.Context, accountID, teamID, userID model.ID) (model.Team, error) {
	if _, err := s.Team(ctx, accountID, teamID); err != nil {
		return model.Team{}, err
	}
	if _, err := s.st.MemberGet(ctx, accountID, userID); err != nil {
		return model.Team{}, publicStoreError(err, "member "+userID.String())
	}
	if err := s.st.TeamMemberAdd(ctx, teamID, userID); err != nil {
		return model.Team{}, err
	}
	s.invalidate()
	return s.Team(ctx, accountID, teamID)
}

// RemoveTeamMember takes a user out of a team.
func (s *Service) RemoveTeamMember(ctx context.Context, accountID, teamID, userID model.ID) error {
	if _, err := s.Team(ctx, accountID, teamID); err != nil {
		return err
	}
	if err := s.st.TeamMemberRemove(ctx, teamID, userID); err != nil {
		return publicStoreError(err, "team member")
	}
	s.invalidate()
	return nil
}

// SetTeamWorkspaceRole gives a team a role on a workspace of the account
// (an empty role removes it).
func (s *Service) SetTeamWorkspaceRole(ctx context.Context, accountID, teamID, workspaceID model.ID, role model.Role) error {
	if role != "" && !role.Valid() {
		return fail(Invalid, "field \"role\": %q is not one of owner, admin, developer, viewer (or empty to remove)", role)
	}
	if _, err := s.Team(ctx, accountID, teamID); err != nil {
		return err
	}
	if _, err := s.st.WorkspaceDetailsGet(ctx, accountID, workspaceID); err != nil {
		return publicStoreError(err, "workspace")
	}
	if err := s.st.TeamWorkspaceRoleSet(ctx, teamID, workspaceID, role); err != nil {
		return err
	}
	s.invalidate()
	return nil
}

// --- invitations ------------------------------------------------------------

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// InvitationInput is the body of an invitation.
type InvitationInput struct {
	Email string     `json:"email" required:"true"`
	Role  model.Role `json:"role" required:"true"`
	// TeamID, when set, also puts the person in this team.
	TeamID *model.ID `json:"team_id"`
}

// SentInvitation is a new invitation and how it was delivered.
type SentInvitation struct {
	model.Invitation
	// EmailSent reports that the SMTP server took the message.
	EmailSent bool `json:"email_sent"`
	// Link is the one-time link, returned only when no SMTP server is
	// configured (the inviter passes it on); it is never stored.
	Link string `json:"link,omitempty"`
	// EmailError says why sending failed.
	EmailError string `json:"email_error,omitempty"`
}

// Mailing reports whether e-mail is configured.
func (s *Service) Mailing() bool { return s.cfg.Mail.Configured() }

// link is the UI address of a one-time token (the token travels in the
// fragment, which browsers never send to a server, so it stays out of
// request logs).
func (s *Service) link(page, token string) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/" + page + "#token=" + token
}

// send e-mails a message; sent reports delivery. Without an SMTP server
// nothing is sent and the link is not written anywhere either: a one-time
// link is a credential, and a server log is read by more people than the
// account's owner. The inviter gets an invitation's link in the API answer;
// a forgotten password is set by an operator (`baton admin set-password`).
func (s *Service) send(ctx context.Context, to, subject, body, what, fallback string) (sent bool, err error) {
	if !s.cfg.Mail.Configured() {
		s.log.WarnContext(ctx, "tenancy: no SMTP server configured (BATON_SMTP_HOST); the "+what+" e-mail was not sent: "+fallback,
			slog.String("to", to))
		return false, nil
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := mail.Send(sctx, s.cfg.Mail, mail.Message{To: []string{to}, Subject: subject, Body: body, ID: model.NewID().String()}); err != nil {
		s.log.ErrorContext(ctx, "tenancy: sending "+what+" e-mail failed", slog.String("to", to), slog.Any("err", err))
		return false, err
	}
	return true, nil
}

// Invite invites a person by e-mail to an account with a role (and a
// team). Only owners may invite owners; a viewer never gets here (the
// route needs the manage permission).
func (s *Service) Invite(ctx context.Context, actor Principal, actorRole model.Role, accountID model.ID, in InvitationInput) (SentInvitation, error) {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return SentInvitation{}, err
	}
	if !in.Role.ValidAccountRole() {
		return SentInvitation{}, fail(Invalid, "field \"role\": %q is not one of owner, admin, developer, viewer, member", in.Role)
	}
	if in.Role == model.RoleOwner && actorRole != model.RoleOwner {
		return SentInvitation{}, fail(Forbidden, "only an owner can invite an owner")
	}
	acc, err := s.Account(ctx, accountID)
	if err != nil {
		return SentInvitation{}, err
	}
	teamName := ""
	if in.TeamID != nil {
		t, err := s.Team(ctx, accountID, *in.TeamID)
		if err != nil {
			return SentInvitation{}, err
		}
		teamName = t.Name
	}
	if u, _, err := s.st.UserByEmail(ctx, email); err == nil {
		if _, err := s.st.MemberGet(ctx, accountID, u.ID); err == nil && in.TeamID == nil {
			return SentInvitation{}, fail(Conflict, "%s is already a member of this account", email)
		}
	}
	token, err := newToken()
	if err != nil {
		return SentInvitation{}, err
	}
	now := s.now()
	inv := model.Invitation{ID: model.NewID(), AccountID: accountID, Email: email, Role: in.Role, TeamID: in.TeamID,
		Created: model.NewTime(now), Expires: model.NewTime(now.Add(InvitationTTL))}
	if !actor.Server && actor.User.ID != model.Nil {
		id := actor.User.ID
		inv.InviterID = &id
	}
	if err := s.st.InvitationCreate(ctx, inv, HashSecret(token)); err != nil {
		return SentInvitation{}, err
	}
	link := s.link("invitation", token)
	who := actor.User.Email
	if who == "" {
		who = "An administrator"
	}
	body := fmt.Sprintf("%s invited you to the Baton account %q as %s", who, acc.Name, in.Role)
	if teamName != "" {
		body += fmt.Sprintf(", in the team %q", teamName)
	}
	body += fmt.Sprintf(".\n\nAccept the invitation (the link works once, until %s):\n\n%s\n\nIf you did not expect this, ignore this e-mail.\n",
		inv.Expires.UTC().Format(time.RFC1123), link)
	out := SentInvitation{Invitation: inv}
	sent, err := s.send(ctx, email, "Invitation to "+acc.Name+" on Baton", body, "invitation",
		"the inviter received its link in the answer and passes it on")
	out.EmailSent = sent
	if err != nil {
		out.EmailError = err.Error()
	}
	if !s.cfg.Mail.Configured() {
		out.Link = link
	}
	return out, nil
}

// Invitations lists an account's open invitations.
func (s *Service) Invitations(ctx context.Context, accountID model.ID) ([]model.Invitation, error) {
	return s.st.InvitationList(ctx, accountID)
}

// RevokeInvitation withdraws an open invitation: its link stops working.
func (s *Service) RevokeInvitation(ctx context.Context, accountID, id model.ID) error {
	if err := s.st.InvitationRevoke(ctx, accountID, id, model.NewTime(s.now())); err != nil {
		return publicStoreError(err, "open invitation")
	}
	return nil
}

// InvitationInfo is what the accept page shows before accepting.
type InvitationInfo struct {
	Email         string     `json:"email"`
	AccountName   string     `json:"account_name"`
	AccountHandle string     `json:"account_handle"`
	Role          model.Role `json:"role"`
	TeamName      string     `json:"team_name"`
	Expires       model.Time `json:"expires"`
	// UserExists: the person already has a Baton user and must sign in
	// (as that user) to accept; otherwise accepting creates the user.
	UserExists bool `json:"user_exists"`
}

// openInvitation finds the invitation of a token and checks that it can
// still be used: unknown 404, accepted 409, revoked or expired 410.
func (s *Service) openInvitation(ctx context.Context, token string) (model.Invitation, error) {
	if strings.TrimSpace(token) == "" {
		return model.Invitation{}, fail(Invalid, "field \"token\" is required")
	}
	inv, err := s.st.InvitationByHash(ctx, HashSecret(token))
	if errors.Is(err, store.ErrNotFound) {
		return inv, fail(NotFound, "this invitation link is not valid (check that it was copied whole)")
	}
	if err != nil {
		return inv, err
	}
	switch {
	case inv.Accepted != nil:
		return inv, fail(Conflict, "this invitation has already been used")
	case inv.Revoked != nil:
		return inv, fail(Gone, "this invitation was revoked; ask for a new one")
	case !s.now().Before(inv.Expires.Time):
		return inv, fail(Gone, "this invitation expired on %s; ask for a new one", inv.Expires.UTC().Format(time.RFC1123))
	}
	return inv, nil
}

// InspectInvitation describes an open invitation.
func (s *Service) InspectInvitation(ctx context.Context, token string) (InvitationInfo, error) {
	inv, err := s.openInvitation(ctx, token)
	if err != nil {
		return InvitationInfo{}, err
	}
	acc, err := s.Account(ctx, inv.AccountID)
	if err != nil {
		return InvitationInfo{}, err
	}
	info := InvitationInfo{Email: inv.Email, AccountName: acc.Name, AccountHandle: acc.Handle, Role: inv.Role, Expires: inv.Expires}
	if inv.TeamID != nil {
		if t, err := s.Team(ctx, inv.AccountID, *inv.TeamID); err == nil {
			info.TeamName = t.Name
		}
	}
	_, _, uerr := s.st.UserByEmail(ctx, inv.Email)
	info.UserExists = uerr == nil
	return info, nil
}

// AcceptInvitation is the body of accepting an invitation.
type AcceptInvitation struct {
	Token string `json:"token" required:"true"`
	// Name and Password create the user when the invited e-mail has none.
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Accepted is the outcome of AcceptInvitation.
type Accepted struct {
	User    model.User    `json:"user"`
	Account model.Account `json:"account"`
	// SessionToken is a new session for a user the acceptance created.
	SessionToken string `json:"-"`
}

// AcceptInvitation uses an invitation: for a signed-in person whose e-mail
// is the invited one it adds them to the account; for an e-mail without a
// user it creates the user with the password and signs them in. An e-mail
// that has a user must be signed in as that user (so a password or a
// second factor is never bypassed). The link works once.
func (s *Service) AcceptInvitation(ctx context.Context, in AcceptInvitation, signedIn *Principal, clientAddr string) (Accepted, error) {
	inv, err := s.openInvitation(ctx, in.Token)
	if err != nil {
		return Accepted{}, err
	}
	var out Accepted
	existing, _, uerr := s.st.UserByEmail(ctx, inv.Email)
	if uerr != nil && !errors.Is(uerr, store.ErrNotFound) {
		return out, uerr
	}
	switch {
	case signedIn != nil && !signedIn.Server:
		if !strings.EqualFold(signedIn.User.Email, inv.Email) {
			return out, fail(Forbidden, "this invitation is for %s; you are signed in as %s", inv.Email, signedIn.User.Email)
		}
		out.User = signedIn.User
	case uerr == nil:
		return out, fail(Unauthenticated, "%s already has a Baton user: sign in as %s, then open the invitation link again", inv.Email, inv.Email)
	default:
		if err := checkPassword(in.Password); err != nil {
			return out, err
		}
		hash, err := HashPassword(in.Password)
		if err != nil {
			return out, err
		}
		name := strings.TrimSpace(in.Name)
		if name == "" {
			name, _, _ = strings.Cut(inv.Email, "@")
		}
		out.User = model.User{ID: model.NewID(), Email: inv.Email, Name: name, Created: model.NewTime(s.now())}
		if err := s.st.UserCreate(ctx, store.UserCreate{User: out.User, PasswordHash: hash}); err != nil {
			return out, publicStoreError(err, "user "+inv.Email)
		}
	}
	_ = existing
	if err := s.st.InvitationAccept(ctx, inv.ID, out.User.ID, model.NewTime(s.now())); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return out, fail(Conflict, "this invitation has already been used")
		}
		return out, err
	}
	s.invalidate()
	if out.Account, err = s.Account(ctx, inv.AccountID); err != nil {
		return out, err
	}
	uid := out.User.ID
	s.Audit(ctx, model.AuditEvent{AccountID: inv.AccountID, Action: "invitation.accepted", ActorID: &uid, ActorName: out.User.Email,
		TargetType: "invitation", TargetID: inv.ID.String(), TargetName: inv.Email, SourceAddr: clientAddr, Detail: "role " + string(inv.Role)})
	if signedIn == nil {
		token, err := s.openSession(ctx, out.User, clientAddr, "invitation")
		if err != nil {
			return out, err
		}
		out.SessionToken = token
	}
	return out, nil
}
