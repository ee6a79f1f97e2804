package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"index.html":         {Data: []byte("<html>app</html>")},
		"favicon.svg":        {Data: []byte("<svg/>")},
		"assets/app-abc.js":  {Data: []byte("console.log(1)")},
		"assets/app-abc.css": {Data: []byte("body{}")},
	}
	h := handler(files)
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantBody           string
		wantCache          string
	}{
		{"root serves index", http.MethodGet, "/", 200, "<html>app</html>", "no-cache"},
		{"client route falls back to index", http.MethodGet, "/runs/flow-run/123", 200, "<html>app</html>", "no-cache"},
		{"index.html itself", http.MethodGet, "/index.html", 200, "<html>app</html>", "no-cache"},
		{"hashed asset is cached for a year", http.MethodGet, "/assets/app-abc.js", 200, "console.log(1)", "public, max-age=31536000, immutable"},
		{"plain file is revalidated", http.MethodGet, "/favicon.svg", 200, "<svg/>", "no-cache"},
		{"missing asset is 404, not index", http.MethodGet, "/assets/gone.js", 404, "", ""},
		{"traversal stays inside", http.MethodGet, "/../../etc/passwd", 200, "<html>app</html>", "no-cache"},
		{"head works", http.MethodHead, "/dashboard", 200, "", "no-cache"},
		{"post is refused", http.MethodPost, "/", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			if tc.wantBody != "" && !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Fatalf("body = %q, want %q", rec.Body.String(), tc.wantBody)
			}
			if got := rec.Header().Get("Cache-Control"); tc.wantCache != "" && got != tc.wantCache {
				t.Fatalf("Cache-Control = %q, want %q", got, tc.wantCache)
			}
		})
	}
}

func TestEmbeddedIndex(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/flows", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("embedded index: status %d body %.80q", rec.Code, rec.Body.String())
	}
}
