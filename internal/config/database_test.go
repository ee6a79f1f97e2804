package config

import (
	"strings"
	"testing"
)

func TestParseDatabaseURL(t *testing.T) {
	for _, c := range []struct {
		in, engine, path, err string
	}{
		{in: "postgres://u:p@h:5432/db", engine: EnginePostgres},
		{in: "postgresql://h/db?sslmode=disable", engine: EnginePostgres},
		{in: "sqlite:/var/lib/baton.db", engine: EngineSQLite, path: "/var/lib/baton.db"},
		{in: "sqlite:///var/lib/baton.db", engine: EngineSQLite, path: "/var/lib/baton.db"},
		{in: "sqlite:rel/baton.db", engine: EngineSQLite, path: "rel/baton.db"},
		{in: "sqlite:", err: "needs a file path"},
		{in: "mysql://u:secret@h/db", err: `scheme "mysql" is not supported`},
		{in: "just words", err: "not a URL"},
	} {
		db, err := ParseDatabaseURL(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%q: error %v, want one containing %q (and no password)", c.in, err, c.err)
			}
			continue
		}
		if err != nil || db.Engine != c.engine || db.Path != c.path {
			t.Errorf("%q: %+v %v", c.in, db, err)
		}
	}
	// BATON_DATABASE_URL=sqlite:… is the same as BATON_DATABASE_PATH.
	s := Server{Home: "/h", Host: "127.0.0.1", LogLevel: "info", LogFormat: "text", DatabaseURL: "sqlite:/x/b.db"}
	if err := s.Validate(); err != nil || s.DatabasePath != "/x/b.db" || s.Database().Engine != EngineSQLite {
		t.Fatalf("%v %+v", err, s)
	}
	s = Server{Home: "/h", Host: "127.0.0.1", LogLevel: "info", LogFormat: "text", DatabaseURL: "redis://x"}
	if err := s.Validate(); err == nil {
		t.Fatal("redis URL accepted")
	}
}
