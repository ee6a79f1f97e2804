package api

// Account administration: accounts, their members, workspaces and service
// accounts. authorize has checked the caller's role on the path's account
// before any of these handlers runs (c.account() returns it).

import (
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// accountCreate is the body of POST /accounts.
type accountCreate struct {
	Name   string `json:"name"`
	Handle string `json:"handle" required:"true"`
}

// accountUpdate is the body of PATCH /accounts/{account_id}.
type accountUpdate struct {
	Name   *string `json:"name"`
	Handle *string `json:"handle"`
}

// memberAdd is the body of POST /accounts/{account_id}/members.
type memberAdd struct {
	Email string     `json:"email" required:"true"`
	Role  model.Role `json:"role" required:"true"`
}

// roleBody carries a role.
type roleBody struct {
	Role model.Role `json:"role" required:"true"`
}

// workspaceRoleBody is the body of PUT …/members/{user_id}/workspaces/{w}.
type workspaceRoleBody struct {
	// Role is the workspace role; empty removes it.
	Role model.Role `json:"role"`
}

// botCreate is the body of POST /accounts/{account_id}/service_accounts.
type botCreate struct {
	Name string     `json:"name" required:"true"`
	Role model.Role `json:"role" required:"true"`
}

// botWithKey is a new service account and its first key (shown once).
type botWithKey struct {
	User   model.User         `json:"user"`
	Role   model.Role         `json:"role"`
	APIKey *tenancy.NewAPIKey `json:"api_key"`
}

func accountRoutes() []route {
	acc := idParam("account_id", "The account")
	wsp := idParam("workspace_id", "The workspace")
	member := idParam("user_id", "The member")
	bot := idParam("user_id", "The service account")
	key := idParam("id", "The key")
	return []route{
		op(authenticated, "POST", "/accounts", "Cloud", "Create an account owned by the caller", 201, func(c *call, b *accountCreate) (model.Account, error) {
			p, err := c.person()
			if err != nil {
				return model.Account{}, err
			}
			return c.srv.cfg.Tenancy.CreateAccount(c.ctx, p.User.ID, b.Name, b.Handle)
		}),
		op(accountRead, "GET", "/accounts/{account_id}", "Cloud", "Read an account", 200, func(c *call, _ *noBody) (model.Account, error) {
			id, _ := c.account()
			return c.srv.cfg.Tenancy.Account(c.ctx, id)
		}, acc),
		op(accountOwn, "PATCH", "/accounts/{account_id}", "Cloud", "Rename an account or change its handle (owners)", 204, updateAccount, acc),

		op(accountRead, "GET", "/accounts/{account_id}/members", "Cloud", "An account's members and their roles", 200, func(c *call, _ *noBody) ([]model.AccountMember, error) {
			id, _ := c.account()
			return c.srv.cfg.Tenancy.Members(c.ctx, id)
		}, acc),
		op(accountManage, "POST", "/accounts/{account_id}/members", "Cloud", "Add an existing user (by e-mail) with a role, or change their role (admins)", 201, func(c *call, b *memberAdd) (model.AccountMember, error) {
			id, role := c.account()
			return c.srv.cfg.Tenancy.SetMember(c.ctx, role, id, b.Email, b.Role)
		}, acc),
		op(accountManage, "PATCH", "/accounts/{account_id}/members/{user_id}", "Cloud", "Change a member's role (admins; owners for the owner role)", 200, func(c *call, b *roleBody) (model.AccountMember, error) {
			id, role := c.account()
			return c.srv.cfg.Tenancy.SetMemberRole(c.ctx, role, id, c.id("user_id"), b.Role)
		}, acc, member),
		op(accountManage, "DELETE", "/accounts/{account_id}/members/{user_id}", "Cloud", "Remove a member (admins; owners for owners)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, role := c.account()
			return noContent{}, c.srv.cfg.Tenancy.RemoveMember(c.ctx, role, id, c.id("user_id"))
		}, acc, member),

		op(accountRead, "GET", "/accounts/{account_id}/workspaces", "Cloud", "An account's workspaces", 200, func(c *call, _ *noBody) ([]model.WorkspaceDetails, error) {
			id, _ := c.account()
			return c.srv.cfg.Tenancy.Workspaces(c.ctx, id)
		}, acc),
		op(accountManage, "POST", "/accounts/{account_id}/workspaces", "Cloud", "Create a workspace (admins)", 201, func(c *call, b *tenancy.WorkspaceInput) (model.WorkspaceDetails, error) {
			id, _ := c.account()
			return c.srv.cfg.Tenancy.CreateWorkspace(c.ctx, id, *b)
		}, acc),
		op(accountRead, "GET", "/accounts/{account_id}/workspaces/{workspace_id}", "Cloud", "Read a workspace", 200, func(c *call, _ *noBody) (model.WorkspaceDetails, error) {
			id, _ := c.account()
			return c.srv.cfg.Tenancy.Workspace(c.ctx, id, c.id("workspace_id"))
		}, acc, wsp),
		op(accountManage, "PATCH", "/accounts/{account_id}/workspaces/{workspace_id}", "Cloud", "Edit a workspace's name, handle or description (admins)", 200, func(c *call, b *tenancy.WorkspaceInput) (model.WorkspaceDetails, error) {
			id, _ := c.account()
			return c.srv.cfg.Tenancy.UpdateWorkspace(c.ctx, id, c.id("workspace_id"), *b)
		}, acc, wsp),
		op(accountManage, "DELETE", "/accounts/{account_id}/workspaces/{workspace_id}", "Cloud", "Delete a workspace and everything in it (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _ := c.account()
			wid := c.id("workspace_id")
			if err := c.srv.cfg.Tenancy.DeleteWorkspace(c.ctx, id, wid); err != nil {
				return noContent{}, err
			}
			c.srv.forgetWorkspace(id, wid)
			return noContent{}, nil
		}, acc, wsp),
		op(accountManage, "PUT", "/accounts/{account_id}/members/{user_id}/workspaces/{workspace_id}", "Cloud", "Give a user a role on one workspace (admins; empty role removes it)", 204, func(c *call, b *workspaceRoleBody) (noContent, error) {
			id, _ := c.account()
			return noContent{}, c.srv.cfg.Tenancy.SetWorkspaceRole(c.ctx, id, c.id("workspace_id"), c.id("user_id"), b.Role)
		}, acc, wsp, idParam("user_id", "The user")),

		op(accountManage, "POST", "/accounts/{account_id}/service_accounts", "Cloud", "Create a service account with a role and its first key (shown once) (admins)", 201, createServiceAccount, acc),
		op(accountManage, "GET", "/accounts/{account_id}/service_accounts/{user_id}/api_keys", "Cloud", "A service account's keys (admins)", 200, func(c *call, _ *noBody) ([]model.APIKey, error) {
			uid, err := c.serviceAccount()
			if err != nil {
				return nil, err
			}
			return c.srv.cfg.Tenancy.ListAPIKeys(c.ctx, uid)
		}, acc, bot),
		op(accountManage, "POST", "/accounts/{account_id}/service_accounts/{user_id}/api_keys", "Cloud", "Create a key for a service account (shown once) (admins)", 201, func(c *call, b *keyCreate) (tenancy.NewAPIKey, error) {
			uid, err := c.serviceAccount()
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			return c.srv.cfg.Tenancy.CreateAPIKey(c.ctx, uid, b.Name, b.expiration())
		}, acc, bot),
		op(accountManage, "DELETE", "/accounts/{account_id}/service_accounts/{user_id}/api_keys/{id}", "Cloud", "Revoke a service account's key (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			uid, err := c.serviceAccount()
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, c.srv.cfg.Tenancy.DeleteAPIKey(c.ctx, uid, c.id("id"))
		}, acc, bot, key),
		op(accountManage, "POST", "/accounts/{account_id}/service_accounts/{user_id}/api_keys/{id}/rotate", "Cloud", "Give a service account's key a new secret (shown once); the old one stops working (admins)", 200, func(c *call, _ *noBody) (tenancy.NewAPIKey, error) {
			uid, err := c.serviceAccount()
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			return c.srv.cfg.Tenancy.RotateAPIKey(c.ctx, uid, c.id("id"))
		}, acc, bot, key),
		op(accountManage, "DELETE", "/accounts/{account_id}/service_accounts/{user_id}", "Cloud", "Delete a service account and its keys (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _ := c.account()
			return noContent{}, c.srv.cfg.Tenancy.DeleteServiceAccount(c.ctx, id, c.id("user_id"))
		}, acc, bot),
	}
}

func updateAccount(c *call, b *accountUpdate) (noContent, error) {
	id, _ := c.account()
	t := c.srv.cfg.Tenancy
	a, err := t.Account(c.ctx, id)
	if err != nil {
		return noContent{}, err
	}
	if b.Name != nil {
		a.Name = *b.Name
	}
	if b.Handle != nil {
		a.Handle = *b.Handle
	}
	_, err = t.UpdateAccount(c.ctx, a)
	return noContent{}, err
}

func createServiceAccount(c *call, b *botCreate) (botWithKey, error) {
	id, _ := c.account()
	t := c.srv.cfg.Tenancy
	u, err := t.CreateServiceAccount(c.ctx, id, b.Name, b.Role)
	if err != nil {
		return botWithKey{}, err
	}
	k, err := t.CreateAPIKey(c.ctx, u.ID, b.Name, nil)
	if err != nil {
		return botWithKey{}, err
	}
	return botWithKey{User: u, Role: b.Role, APIKey: &k}, nil
}

// serviceAccount returns the path's {user_id} once it is known to be a
// service account of the path's account (404 otherwise).
func (c *call) serviceAccount() (model.ID, error) {
	id, _ := c.account()
	uid := c.id("user_id")
	if _, err := c.srv.cfg.Tenancy.ServiceAccount(c.ctx, id, uid); err != nil {
		return model.Nil, err
	}
	return uid, nil
}
