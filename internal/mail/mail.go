// Package mail sends e-mail over SMTP: the smtp-email notification block
// (automations) and cloud mode's invitations and password resets
// (BATON_SMTP_*) use the same sender.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"
)

// Config is an SMTP server and the sender's address.
type Config struct {
	// Host and Port of the SMTP server; Port defaults by Mode (465, 587,
	// 25).
	Host string
	Port string
	// Mode is SSL (TLS from the start), STARTTLS (default) or INSECURE
	// (plain text, for a relay on loopback).
	Mode string
	// Username and Password authenticate (PLAIN) when the server offers
	// AUTH and Username is set.
	Username string
	Password string
	// From is the sender (default Username).
	From string
}

// Configured reports whether a server is set.
func (c Config) Configured() bool { return c.Host != "" }

// FromEnv reads BATON_SMTP_HOST, _PORT, _MODE, _USERNAME, _PASSWORD and
// _FROM. An unset host leaves mail off.
func FromEnv() (Config, error) {
	c := Config{Host: os.Getenv("BATON_SMTP_HOST"), Port: os.Getenv("BATON_SMTP_PORT"), Mode: strings.ToUpper(os.Getenv("BATON_SMTP_MODE")),
		Username: os.Getenv("BATON_SMTP_USERNAME"), Password: os.Getenv("BATON_SMTP_PASSWORD"), From: os.Getenv("BATON_SMTP_FROM")}
	switch c.Mode {
	case "", "SSL", "STARTTLS", "INSECURE":
	default:
		return c, fmt.Errorf("BATON_SMTP_MODE: %q is not one of SSL, STARTTLS, INSECURE", c.Mode)
	}
	if c.Host != "" && c.From == "" && c.Username == "" {
		return c, errors.New("BATON_SMTP_FROM: the sender address is required when BATON_SMTP_HOST is set")
	}
	return c, nil
}

// PermanentError is a refusal that retrying will not change (a 5xx reply,
// a failed authentication, a missing STARTTLS).
type PermanentError struct{ Msg string }

func (e *PermanentError) Error() string { return e.Msg }

func permanent(format string, args ...any) error {
	return &PermanentError{Msg: fmt.Sprintf(format, args...)}
}

// Message is one e-mail.
type Message struct {
	To      []string
	Subject string
	// Body is plain text.
	Body string
	// ID becomes the Message-ID's local part.
	ID string
}

// Send delivers m through the server of c.
func Send(ctx context.Context, c Config, m Message) error {
	if c.Host == "" {
		return permanent("no SMTP server is configured")
	}
	mode := strings.ToUpper(c.Mode)
	if mode == "" {
		mode = "STARTTLS"
	}
	port := c.Port
	if port == "" {
		port = map[string]string{"SSL": "465", "STARTTLS": "587", "INSECURE": "25"}[mode]
	}
	from := c.From
	if from == "" {
		from = c.Username
	}
	if from == "" || len(m.To) == 0 {
		return permanent("an e-mail needs a sender and at least one recipient")
	}
	addr := net.JoinHostPort(c.Host, port)
	dialer := &net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	var err error
	tlsConf := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if mode == "SSL" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to SMTP server %s: %v", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	sc, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP server %s: %v", addr, err)
	}
	defer sc.Close()
	if mode == "STARTTLS" {
		if ok, _ := sc.Extension("STARTTLS"); !ok {
			return permanent("SMTP server %s does not offer STARTTLS (set smtp_type to SSL or INSECURE)", addr)
		}
		if err := sc.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("SMTP STARTTLS with %s: %v", addr, err)
		}
	}
	if c.Username != "" {
		if ok, _ := sc.Extension("AUTH"); ok {
			if err := sc.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
				return permanent("SMTP authentication with %s failed: %v", addr, err)
			}
		}
	}
	if err := sc.Mail(from); err != nil {
		return replyErr(err, "sender %s", from)
	}
	for _, rcpt := range m.To {
		if err := sc.Rcpt(rcpt); err != nil {
			return replyErr(err, "recipient %s", rcpt)
		}
	}
	w, err := sc.Data()
	if err != nil {
		return replyErr(err, "message")
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@baton>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		from, strings.Join(m.To, ", "), mime.QEncoding.Encode("utf-8", m.Subject), time.Now().UTC().Format(time.RFC1123Z), m.ID)
	msg.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	if _, err := w.Write(msg.Bytes()); err != nil {
		return fmt.Errorf("SMTP write: %v", err)
	}
	if err := w.Close(); err != nil {
		return replyErr(err, "message")
	}
	return sc.Quit()
}

// replyErr fails permanently on a 5xx reply; anything else may pass.
func replyErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var te interface{ Temporary() bool }
	if errors.As(err, &te) && !te.Temporary() {
		return permanent("SMTP refused the %s: %v", what, err)
	}
	if strings.HasPrefix(err.Error(), "5") {
		return permanent("SMTP refused the %s: %v", what, err)
	}
	return fmt.Errorf("SMTP %s: %v", what, err)
}
