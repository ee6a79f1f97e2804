package model

// Role is what a member may do in an account or a workspace. Roles are
// ordered: each one can do everything the ones below it can.
type Role string

// The four roles, strongest first. A user's role on a workspace is the
// strongest of their account role, their workspace role and the roles their
// teams hold on it.
const (
	// RoleOwner manages the account itself, including its owners.
	RoleOwner Role = "owner"
	// RoleAdmin manages workspaces, members (below owner) and service accounts.
	RoleAdmin Role = "admin"
	// RoleDeveloper reads and writes a workspace's flows, runs and the rest.
	RoleDeveloper Role = "developer"
	// RoleViewer only reads.
	RoleViewer Role = "viewer"
	// RoleMember is an account role only: a member of the account with no
	// workspace of its own; workspaces come from workspace roles and teams.
	// It ranks 0 and grants nothing by itself.
	RoleMember Role = "member"
)

// ValidAccountRole reports whether r may be held on an account: one of the
// four roles or member.
func (r Role) ValidAccountRole() bool { return r.Valid() || r == RoleMember }

// Rank orders roles (owner 4 … viewer 1); an unknown role ranks 0 so that
// it grants nothing.
func (r Role) Rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleDeveloper:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.Rank() > 0 }

// Account is a tenant that owns workspaces and has members.
type Account struct {
	ID      ID     `json:"id"`
	Name    string `json:"name"`
	Handle  string `json:"handle"`
	Created Time   `json:"created"`
}

// User is a person (signs in with email and password) or a service account
// (a bot: no password, only API keys, owned by one account).
type User struct {
	ID    ID     `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	// IsBot marks a service account.
	IsBot bool `json:"is_bot"`
	// BotAccountID is the account a service account belongs to.
	BotAccountID *ID  `json:"bot_account_id,omitempty"`
	Created      Time `json:"created"`
}

// AccountMember is a user's membership of an account, with the user's
// public fields for listing.
type AccountMember struct {
	AccountID ID     `json:"account_id"`
	UserID    ID     `json:"user_id"`
	Role      Role   `json:"role"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	IsBot     bool   `json:"is_bot"`
	Created   Time   `json:"created"`
}

// WorkspaceDetails is a workspace with the fields cloud mode manages.
type WorkspaceDetails struct {
	ID          ID     `json:"id"`
	AccountID   ID     `json:"account_id"`
	Name        string `json:"name"`
	Handle      string `json:"handle"`
	Description string `json:"description"`
	IsDefault   bool   `json:"is_default"`
	Created     Time   `json:"created"`
}

// WorkspaceAccess is one workspace a user can reach, with its account and
// the user's effective role there. It backs GET /api/me/workspaces and the
// per-request authorization check.
type WorkspaceAccess struct {
	Account   Account          `json:"account"`
	Workspace WorkspaceDetails `json:"workspace"`
	Role      Role             `json:"role"`
}

// APIKey describes a key without its secret: only a SHA-256 hash of the key
// is stored, and Prefix (the scheme plus a few characters) identifies it in
// listings.
type APIKey struct {
	ID       ID     `json:"id"`
	UserID   ID     `json:"user_id"`
	Name     string `json:"name"`
	Prefix   string `json:"prefix"`
	Created  Time   `json:"created"`
	Expires  *Time  `json:"expires"`
	LastUsed *Time  `json:"last_used"`
}

// Session is a browser sign-in. The cookie holds a random token; the store
// keeps only its hash.
type Session struct {
	// ID names the session in listings (the token's hash never leaves
	// the store).
	ID      ID   `json:"id"`
	UserID  ID   `json:"user_id"`
	Created Time `json:"created"`
	Expires Time `json:"expires"`
	// SourceAddr and UserAgent describe where it was opened.
	SourceAddr string `json:"source_address"`
	UserAgent  string `json:"user_agent"`
}

// Team is a named group of an account's members that holds roles on
// workspaces: its members reach those workspaces with those roles.
type Team struct {
	ID          ID     `json:"id"`
	AccountID   ID     `json:"account_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Created     Time   `json:"created"`
	// Members and Workspaces are filled by reads.
	Members    []TeamMember    `json:"members"`
	Workspaces []TeamWorkspace `json:"workspaces"`
}

// TeamMember is one user of a team.
type TeamMember struct {
	UserID ID     `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
}

// TeamWorkspace is a team's role on one workspace.
type TeamWorkspace struct {
	WorkspaceID ID   `json:"workspace_id"`
	Role        Role `json:"role"`
}

// Invitation asks a person (by e-mail) to join an account with a role and
// optionally a team. The link's token is kept only as a hash.
type Invitation struct {
	ID        ID     `json:"id"`
	AccountID ID     `json:"account_id"`
	Email     string `json:"email"`
	Role      Role   `json:"role"`
	TeamID    *ID    `json:"team_id"`
	InviterID *ID    `json:"inviter_id"`
	Created   Time   `json:"created"`
	Expires   Time   `json:"expires"`
	// Accepted and Revoked are set once the invitation is used or
	// withdrawn; either ends it.
	Accepted   *Time `json:"accepted"`
	AcceptedBy *ID   `json:"accepted_by"`
	Revoked    *Time `json:"revoked"`
}

// AuditEvent is one entry of an account's audit log: who (actor) did what
// (action) to what (target), when, from where, and whether it was allowed.
// Entries are only ever appended; retention deletes the old ones.
type AuditEvent struct {
	ID        ID   `json:"id"`
	AccountID ID   `json:"account_id"`
	Occurred  Time `json:"occurred"`
	// WorkspaceID is the workspace the action touched, if any.
	WorkspaceID *ID `json:"workspace_id"`
	// ActorID is the user or service account (nil: an anonymous caller,
	// such as a failed sign-in).
	ActorID *ID `json:"actor_id"`
	// ActorName is the actor's e-mail (or a service account's name), kept
	// as it was so the entry stays readable after the user is gone.
	ActorName string `json:"actor_name"`
	// ActorKeyID is the API key the actor presented (nil: a browser
	// session or no credential).
	ActorKeyID *ID `json:"actor_api_key_id"`
	// Action is dotted: "auth.signin", "member.role_changed",
	// "deployment.deleted", "flow_run.cancelled", "access.denied"...
	Action string `json:"action"`
	// Outcome is AuditSuccess, AuditFailure or AuditDenied.
	Outcome string `json:"outcome"`
	// TargetType, TargetID and TargetName name the object acted on.
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	TargetName string `json:"target_name"`
	// SourceAddr is the caller's network address.
	SourceAddr string `json:"source_address"`
	// Detail is a short free-text addition (a new role, a refusal's reason).
	Detail string `json:"detail"`
}

// Audit outcomes.
const (
	AuditSuccess = "success"
	AuditFailure = "failure"
	AuditDenied  = "denied"
)
