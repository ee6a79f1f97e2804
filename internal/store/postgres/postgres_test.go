package postgres

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/batonhq/baton/internal/pgtest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// template is a database with every migration applied; each test copies it
// (CREATE DATABASE … TEMPLATE), which is much faster than migrating.
func template(t testing.TB) (*pgtest.Cluster, string) {
	t.Helper()
	c, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	templateOnce.Do(func() {
		ctx := context.Background()
		u, err := c.CreateDatabase(ctx, "")
		if err != nil {
			templateErr = err
			return
		}
		s, err := Open(ctx, Config{URL: u, MaxConns: 2})
		if err != nil {
			templateErr = err
			return
		}
		s.Close()
		templateName = dbName(u)
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	return c, templateName
}

func dbName(u string) string {
	var name string
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '/' {
			name = u[i+1:]
			break
		}
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '?' {
			return name[:i]
		}
	}
	return name
}

// openTemp opens a store on a fresh database.
func openTemp(t testing.TB) *Store {
	t.Helper()
	c, tmpl := template(t)
	ctx := context.Background()
	u, err := c.CreateDatabase(ctx, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Config{URL: u, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := c.DropDatabase(context.Background(), dbName(u)); err != nil {
			t.Log(fmt.Errorf("drop test database: %w", err))
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}
