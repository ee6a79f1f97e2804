package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/mail"
	"github.com/batonhq/baton/internal/mail/smtptest"
)

// TestSendToARealSMTPServer delivers a message over TCP to a loopback SMTP
// server and reads it back; no server configured is a permanent error.
func TestSendToARealSMTPServer(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	cfg := mail.Config{Host: srv.Host, Port: srv.Port, Mode: "INSECURE", From: "baton@example.com"}
	if err := mail.Send(context.Background(), cfg, mail.Message{To: []string{"a@example.com"}, Subject: "Héllo", Body: "line 1\nline 2\n", ID: "x"}); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "a@example.com", 1)
	if m.From != "baton@example.com" || m.Subject != "Héllo" || !strings.Contains(m.Body, "line 1\nline 2") {
		t.Fatalf("received %+v", m)
	}
	var pe *mail.PermanentError
	if err := mail.Send(context.Background(), mail.Config{}, mail.Message{To: []string{"a@example.com"}}); !errors.As(err, &pe) {
		t.Fatalf("without a server: %v", err)
	}
	// STARTTLS (the default mode) against a server without it is refused
	// for good, not retried.
	cfg.Mode = ""
	if err := mail.Send(context.Background(), cfg, mail.Message{To: []string{"a@example.com"}, Subject: "s", Body: "b"}); !errors.As(err, &pe) {
		t.Fatalf("STARTTLS not offered: %v", err)
	}
}

// TestFromEnv reads BATON_SMTP_* and refuses a bad mode or a missing sender.
func TestFromEnv(t *testing.T) {
	t.Setenv("BATON_SMTP_HOST", "smtp.example.com")
	t.Setenv("BATON_SMTP_MODE", "ssl")
	t.Setenv("BATON_SMTP_FROM", "baton@example.com")
	c, err := mail.FromEnv()
	if err != nil || !c.Configured() || c.Mode != "SSL" || c.From != "baton@example.com" {
		t.Fatalf("FromEnv = %+v, %v", c, err)
	}
	t.Setenv("BATON_SMTP_MODE", "carrier-pigeon")
	if _, err := mail.FromEnv(); err == nil {
		t.Error("a bad mode was accepted")
	}
	t.Setenv("BATON_SMTP_MODE", "")
	t.Setenv("BATON_SMTP_FROM", "")
	if _, err := mail.FromEnv(); err == nil {
		t.Error("a host without a sender was accepted")
	}
}
