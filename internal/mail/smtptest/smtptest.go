// Package smtptest is a real SMTP server on loopback for tests: it speaks
// the protocol (EHLO, MAIL, RCPT, DATA, QUIT) over TCP and keeps every
// message it receives.
package smtptest

import (
	"bufio"
	stdmime "mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one received e-mail.
type Message struct {
	From    string
	To      []string
	Subject string
	// Body is the message body (after the headers).
	Body string
}

// Server receives mail until the test ends.
type Server struct {
	// Host and Port are where it listens.
	Host, Port string
	ln         net.Listener
	mu         sync.Mutex
	msgs       []Message
	arrived    chan struct{}
}

// Start listens on a free loopback port; the server stops with t.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &Server{Host: host, Port: port, ln: ln, arrived: make(chan struct{}, 100)}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

func (s *Server) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 smtptest ready")
	var m Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 smtptest")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = Message{From: strings.Trim(strings.TrimSpace(line)[10:], "<> ")}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(strings.TrimSpace(line)[8:], "<> "))
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			if pm, err := mail.ReadMessage(strings.NewReader(b.String())); err == nil {
				dec := new(mime)
				m.Subject = dec.decode(pm.Header.Get("Subject"))
				body := new(strings.Builder)
				buf := make([]byte, 4096)
				for {
					n, err := pm.Body.Read(buf)
					body.Write(buf[:n])
					if err != nil {
						break
					}
				}
				m.Body = strings.ReplaceAll(body.String(), "\r\n", "\n")
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			s.arrived <- struct{}{}
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		default:
			say("502 not implemented")
		}
	}
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor returns the n-th (from 1) message to addr, waiting up to a
// minute for it.
func (s *Server) WaitFor(t testing.TB, addr string, n int) Message {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		k := 0
		for _, m := range s.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, addr) {
					k++
					if k == n {
						return m
					}
				}
			}
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("e-mail %d to %s did not arrive (got %d messages)", n, addr, len(s.Messages()))
		}
	}
}

// mime decodes RFC 2047 encoded words of a header.
type mime struct{}

func (mime) decode(h string) string {
	d := new(stdmime.WordDecoder)
	if out, err := d.DecodeHeader(h); err == nil {
		return out
	}
	return h
}
