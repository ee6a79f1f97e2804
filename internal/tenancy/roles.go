package tenancy

import "github.com/batonhq/baton/internal/model"

// Permission is one kind of action a role may be allowed.
type Permission int

// The permissions, from weakest to strongest. Each role grants a prefix of
// this list, so the check is a comparison of ranks.
const (
	// PermRead reads a workspace's objects (GET and query-style POSTs).
	PermRead Permission = iota + 1
	// PermWrite creates, changes and deletes a workspace's objects.
	PermWrite
	// PermManage administers an account: its workspaces, members (below
	// owner) and service accounts.
	PermManage
	// PermOwn changes the account itself and its owners.
	PermOwn
)

// String names the permission for error messages.
func (p Permission) String() string {
	switch p {
	case PermRead:
		return "read"
	case PermWrite:
		return "write"
	case PermManage:
		return "manage"
	case PermOwn:
		return "own"
	}
	return "unknown"
}

// minRank is the rank (model.Role.Rank) a permission needs.
var minRank = map[Permission]int{
	PermRead:   model.RoleViewer.Rank(),
	PermWrite:  model.RoleDeveloper.Rank(),
	PermManage: model.RoleAdmin.Rank(),
	PermOwn:    model.RoleOwner.Rank(),
}

// Can reports whether role grants perm. Unknown roles and permissions grant
// nothing.
func Can(role model.Role, perm Permission) bool {
	need, ok := minRank[perm]
	return ok && role.Rank() >= need
}
