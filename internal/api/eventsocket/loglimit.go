package eventsocket

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// logLimiter keeps one connection's repeated warnings from flooding the
// log: a client sending a stream of undecodable messages once produced one
// line each (20,000 lines, 4 MB, in 0.09 s). Each cause may log a few lines
// per window; further lines of that cause are counted and reported in one
// summary line when the window turns or the connection ends. Not safe for
// concurrent use: one connection's read loop owns it.
type logLimiter struct {
	log    *slog.Logger
	burst  int
	window time.Duration
	now    func() time.Time
	causes map[string]*causeCount
}

// causeCount is one cause's tally in the current window.
type causeCount struct {
	start      time.Time
	logged     int
	suppressed int
}

// Defaults of a connection's limiter: three lines per cause per minute.
const (
	logBurst  = 3
	logWindow = time.Minute
	// maxCauses bounds the tally itself; past it, new causes share one.
	maxCauses = 32
)

func newLogLimiter(log *slog.Logger) *logLimiter {
	return &logLimiter{log: log, burst: logBurst, window: logWindow, now: time.Now, causes: map[string]*causeCount{}}
}

// warn logs msg with attrs unless its cause has used up its lines in this
// window. The cause is the error's text with digits removed, so that "at
// byte 12" and "at byte 40" count as one cause.
func (l *logLimiter) warn(ctx context.Context, msg string, err error, attrs ...slog.Attr) {
	cause := msg
	if err != nil {
		cause += ": " + strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return -1
			}
			return r
		}, err.Error())
	}
	if len(cause) > 200 {
		cause = cause[:200]
	}
	c := l.causes[cause]
	if c == nil {
		if len(l.causes) >= maxCauses {
			cause = "other causes"
			c = l.causes[cause]
		}
		if c == nil {
			c = &causeCount{start: l.now()}
			l.causes[cause] = c
		}
	}
	if now := l.now(); now.Sub(c.start) >= l.window {
		l.summarize(ctx, cause, c)
		*c = causeCount{start: now}
	}
	if c.logged >= l.burst {
		c.suppressed++
		return
	}
	c.logged++
	if err != nil {
		attrs = append(attrs, slog.Any("error", err))
	}
	l.log.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// summarize reports what a cause suppressed, if anything.
func (l *logLimiter) summarize(ctx context.Context, cause string, c *causeCount) {
	if c.suppressed > 0 {
		l.log.LogAttrs(ctx, slog.LevelWarn, "similar log lines suppressed", slog.String("cause", cause),
			slog.Int("suppressed", c.suppressed), slog.Duration("over", l.now().Sub(c.start).Round(time.Second)))
	}
}

// flush reports every suppressed cause; call it when the connection ends.
func (l *logLimiter) flush(ctx context.Context) {
	for cause, c := range l.causes {
		l.summarize(ctx, cause, c)
		delete(l.causes, cause)
	}
}
