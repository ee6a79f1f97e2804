package tenancy

import (
	"context"
	"log/slog"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Actor fills an audit entry's actor fields from a principal.
func (p Principal) Actor(e *model.AuditEvent) {
	if p.Server || p.User.ID == model.Nil {
		return
	}
	id := p.User.ID
	e.ActorID = &id
	e.ActorName = p.User.Email
	if e.ActorName == "" {
		e.ActorName = p.User.Name
	}
	if p.KeyID != nil {
		k := *p.KeyID
		e.ActorKeyID = &k
	}
}

// Audit appends an entry to the audit log of e.AccountID, stamping its id
// and time (when unset) and defaulting its outcome to success. Only cloud
// mode keeps an audit log. A failure to write is logged, not returned: the
// action it describes has already happened.
func (s *Service) Audit(ctx context.Context, e model.AuditEvent) {
	s.audit(ctx, e)
}

// AuditUser appends e to the audit log of every account userID belongs to
// (a sign-in concerns each of them).
func (s *Service) AuditUser(ctx context.Context, userID model.ID, e model.AuditEvent) {
	if !s.Cloud() {
		return
	}
	ms, err := s.st.UserAccounts(ctx, userID)
	if err != nil {
		s.log.ErrorContext(ctx, "tenancy: audit: accounts of user", slog.String("user_id", userID.String()), slog.Any("err", err))
		return
	}
	es := make([]model.AuditEvent, 0, len(ms))
	for _, m := range ms {
		e := e
		e.AccountID = m.AccountID
		es = append(es, e)
	}
	s.audit(ctx, es...)
}

func (s *Service) audit(ctx context.Context, es ...model.AuditEvent) {
	if !s.Cloud() || len(es) == 0 {
		return
	}
	now := model.NewTime(s.now())
	for i := range es {
		e := &es[i]
		if e.ID == model.Nil {
			e.ID = model.NewID()
		}
		if e.Occurred.IsZero() {
			e.Occurred = now
		}
		if e.Outcome == "" {
			e.Outcome = model.AuditSuccess
		}
	}
	if err := s.st.AuditAppend(ctx, es...); err != nil {
		s.log.ErrorContext(ctx, "tenancy: audit log write failed", slog.String("action", es[0].Action), slog.Any("err", err))
	}
}

// AuditQuery is the filter of an account's audit log as the API receives
// it.
type AuditQuery struct {
	Actions      []string
	ActionPrefix string
	ActorID      *model.ID
	TargetID     string
	WorkspaceID  *model.ID
	Outcome      string
	Since, Until *model.Time
	Limit        int
	Offset       int
}

// MaxAuditPage is the most entries one audit log read returns.
const MaxAuditPage = 1000

// AuditLog reads an account's audit log, newest first. The caller has
// checked that the reader may manage the account.
func (s *Service) AuditLog(ctx context.Context, accountID model.ID, q AuditQuery) ([]model.AuditEvent, error) {
	if q.Limit == 0 {
		q.Limit = 200
	}
	if q.Limit < 0 || q.Limit > MaxAuditPage {
		return nil, fail(Invalid, "query parameter \"limit\" must be 1-%d", MaxAuditPage)
	}
	if q.Offset < 0 {
		return nil, fail(Invalid, "query parameter \"offset\" must not be negative")
	}
	switch q.Outcome {
	case "", model.AuditSuccess, model.AuditFailure, model.AuditDenied:
	default:
		return nil, fail(Invalid, "query parameter \"outcome\": %q is not one of success, failure, denied", q.Outcome)
	}
	for _, a := range q.Actions {
		if strings.TrimSpace(a) == "" {
			return nil, fail(Invalid, "query parameter \"action\" must not be empty")
		}
	}
	return s.st.AuditList(ctx, store.AuditFilter{AccountID: accountID, Actions: q.Actions, ActionPrefix: q.ActionPrefix, ActorID: q.ActorID,
		TargetID: q.TargetID, WorkspaceID: q.WorkspaceID, Outcome: q.Outcome, Since: q.Since, Until: q.Until, Limit: q.Limit, Offset: q.Offset})
}
