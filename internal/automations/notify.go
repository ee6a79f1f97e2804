package automations

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/mail"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Notification blocks Baton delivers to (by block type slug): Slack and
// anything that takes Slack's incoming-webhook JSON, Microsoft Teams
// (Power Automate workflows), Discord, Mattermost, Sendgrid, a custom
// webhook with {{subject}}/{{body}}/{{name}} and secret placeholders,
// PagerDuty, Twilio SMS and Opsgenie (notify_services.go), and email over
// SMTP ("smtp-email", Baton's block type).

// SMTPBlockType is the slug of Baton's SMTP email notification block (the
// type itself is installed with the system block types, see
// blocks.SMTPEmailSlug).
const SMTPBlockType = blocks.SMTPEmailSlug

// deliveryError is a failed delivery: permanent ones (4xx, a refused
// address) fail the action at once, others are retried.
func deliveryError(permanent bool, format string, args ...any) error {
	if permanent {
		return failed(format, args...)
	}
	return fmt.Errorf(format, args...)
}

func (s *Service) block(ctx context.Context, ws model.ID, ta *TriggeredAction, res *actionResult) (BlockDocument, error) {
	id := ta.Action.BlockDocumentID
	if id == nil {
		return BlockDocument{}, failed("No block document was selected")
	}
	if s.cfg.Blocks == nil {
		return BlockDocument{}, failed("Block documents are not available on this server")
	}
	b, err := s.cfg.Blocks.BlockDocument(ctx, ws, *id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return b, failed("Block document %s not found", id)
		}
		return b, err
	}
	res.relate("prefect.block-document."+id.String(), "block", b.Name)
	res.relate("prefect.block-type."+b.TypeSlug, "block-type", "")
	return b, nil
}

func str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func boolean(m map[string]any, key string, def bool) bool {
	if v, ok := m[key].(bool); ok {
		return v
	}
	return def
}

func (s *Service) sendNotification(ctx context.Context, ws model.ID, ta *TriggeredAction, res *actionResult) error {
	b, err := s.block(ctx, ws, ta, res)
	if err != nil {
		return err
	}
	if b.TypeSlug != SMTPBlockType && !slices.Contains(b.Capabilities, "notify") {
		return failed("The referenced block was not a notification block")
	}
	rendered, err := s.newTemplateContext(ws, ta).renderAll(ctx, ta.Action.Subject, ta.Action.Body)
	if err != nil {
		var fa *ActionFailed
		if errors.As(err, &fa) {
			res.details["template_error"] = fa.Reason
		}
		return err
	}
	subject, body := rendered[0], rendered[1]
	d := b.Data
	switch b.TypeSlug {
	case "slack-webhook":
		return s.postJSON(ctx, str(d, "url"), boolean(d, "allow_private_urls", true), map[string]any{"text": subject + "\n" + body}, res)
	case "ms-teams-webhook":
		card := map[string]any{
			"type": "message",
			"attachments": []any{map[string]any{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"content": map[string]any{
					"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
					"body": []any{
						map[string]any{"type": "TextBlock", "text": subject, "weight": "bolder", "size": "medium", "wrap": true},
						map[string]any{"type": "TextBlock", "text": body, "wrap": boolean(d, "wrap", true)},
					},
				},
			}},
		}
		return s.postJSON(ctx, str(d, "url"), boolean(d, "allow_private_urls", true), card, res)
	case "discord-webhook":
		u := "https://discord.com/api/webhooks/" + url.PathEscape(str(d, "webhook_id")) + "/" + url.PathEscape(str(d, "webhook_token"))
		msg := map[string]any{"content": subject + "\n" + body, "tts": boolean(d, "tts", false)}
		if bn := str(d, "botname"); bn != "" {
			msg["username"] = bn
		}
		return s.postJSON(ctx, u, true, msg, res)
	case "mattermost-webhook":
		scheme := "http"
		if boolean(d, "secure", false) {
			scheme = "https"
		}
		port := str(d, "port")
		if port == "" {
			port = "8065"
		}
		path := strings.Trim(str(d, "path"), "/")
		if path != "" {
			path += "/"
		}
		u := scheme + "://" + str(d, "hostname") + ":" + port + "/" + path + "hooks/" + url.PathEscape(str(d, "token"))
		msg := map[string]any{"text": "#### " + subject + "\n" + body}
		if bn := str(d, "botname"); bn != "" {
			msg["username"] = bn
		}
		return s.postJSON(ctx, u, true, msg, res)
	case "sendgrid-email":
		var to []map[string]string
		for _, addr := range stringList(d["to_emails"]) {
			to = append(to, map[string]string{"email": addr})
		}
		msg := map[string]any{
			"personalizations": []any{map[string]any{"to": to}},
			"from":             map[string]string{"email": str(d, "sender_email")},
			"subject":          subject,
			"content":          []any{map[string]string{"type": "text/plain", "value": body}},
		}
		return s.send(ctx, "POST", "https://api.sendgrid.com/v3/mail/send", true, map[string]string{"Authorization": "Bearer " + str(d, "api_key"), "Content-Type": "application/json"}, mustJSON(msg), res)
	case "custom-webhook":
		return s.customWebhook(ctx, b, subject, body, res)
	case "pager-duty-webhook":
		return s.pagerDuty(ctx, d, subject, body, res)
	case "twilio-sms":
		return s.twilioSMS(ctx, d, subject, body, res)
	case "opsgenie-webhook":
		return s.opsgenie(ctx, d, subject, body, res)
	case SMTPBlockType:
		return s.sendEmail(ctx, d, subject, body, ta.ID)
	}
	return failed("Notifications through %q blocks are not supported by Baton (supported: slack-webhook, ms-teams-webhook, discord-webhook, mattermost-webhook, sendgrid-email, custom-webhook, pager-duty-webhook, twilio-sms, opsgenie-webhook, %s)", b.TypeSlug, SMTPBlockType)
}

func stringList(v any) []string {
	var out []string
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (s *Service) postJSON(ctx context.Context, u string, allowPrivate bool, body any, res *actionResult) error {
	return s.send(ctx, "POST", u, allowPrivate, map[string]string{"Content-Type": "application/json"}, mustJSON(body), res)
}

// send makes one HTTP request for an action. 2xx and 3xx succeed; 408, 429
// and 5xx are retried; other answers fail the action.
func (s *Service) send(ctx context.Context, method, u string, allowPrivate bool, headers map[string]string, body []byte, res *actionResult) error {
	return s.sendWith(ctx, s.cfg.HTTPClient, method, u, allowPrivate, headers, body, res)
}

func (s *Service) sendWith(ctx context.Context, client *http.Client, method, u string, allowPrivate bool, headers map[string]string, body []byte, res *actionResult) error {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return failed("%q is not an http(s) URL", redactURL(u))
	}
	if !allowPrivate {
		if err := checkPublic(ctx, pu.Hostname()); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return failed("invalid request: %v", err)
	}
	req.Header.Set("User-Agent", "Prefect Notifications")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("request to %s failed: %s", redactURL(u), redactErr(err, u))
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	res.details["status_code"] = resp.StatusCode
	res.details["response_body"] = truncate(string(respBody), 1000)
	hdrs := map[string]string{}
	for k := range resp.Header {
		if !sensitiveHeader(k) {
			hdrs[k] = resp.Header.Get(k)
		}
	}
	res.details["response_headers"] = hdrs
	switch {
	case resp.StatusCode < 400:
		return nil
	case resp.StatusCode == 408 || resp.StatusCode == 429 || resp.StatusCode >= 500:
		return deliveryError(false, "%s answered %d", redactURL(u), resp.StatusCode)
	default:
		return deliveryError(true, "%s answered %d", redactURL(u), resp.StatusCode)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func sensitiveHeader(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"auth", "cookie", "token", "key", "secret"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// redactURL keeps a URL's scheme and host: webhook URLs carry their secret
// in the path or query.
func redactURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return "the webhook URL"
	}
	return pu.Scheme + "://" + pu.Host + "/…"
}

func redactErr(err error, u string) string {
	msg := err.Error()
	return strings.ReplaceAll(msg, u, redactURL(u))
}

// checkPublic refuses hosts that resolve to loopback, private or
// link-local addresses (a block's allow_private_urls = false).
func checkPublic(ctx context.Context, host string) error {
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("resolve %s: %v", host, err)
	}
	for _, ip := range ips {
		if ip.IP.IsLoopback() || ip.IP.IsPrivate() || ip.IP.IsLinkLocalUnicast() || ip.IP.IsUnspecified() || ip.IP.IsLinkLocalMulticast() {
			return failed("%s resolves to a private address, and the block does not allow private URLs", host)
		}
	}
	return nil
}

var placeholder = regexp.MustCompile(`\{\{\s*([\w.\-\[\]$]+)\s*\}\}`)

// applyValues substitutes {{key}} placeholders in every string of v, as
// Prefect's apply_values does: a string that is only a placeholder takes
// the value itself.
func applyValues(v any, values map[string]any) any {
	switch t := v.(type) {
	case string:
		if m := placeholder.FindStringSubmatch(strings.TrimSpace(t)); m != nil && m[0] == strings.TrimSpace(t) {
			if val, ok := values[m[1]]; ok {
				return val
			}
			return t
		}
		return placeholder.ReplaceAllStringFunc(t, func(p string) string {
			key := placeholder.FindStringSubmatch(p)[1]
			if val, ok := values[key]; ok {
				if s, ok := val.(string); ok {
					return s
				}
				return string(mustJSON(val))
			}
			return p
		})
	case map[string]any:
		out := map[string]any{}
		for k, sub := range t {
			out[k] = applyValues(sub, values)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, sub := range t {
			out[i] = applyValues(sub, values)
		}
		return out
	}
	return v
}

func (s *Service) customWebhook(ctx context.Context, b BlockDocument, subject, body string, res *actionResult) error {
	d := b.Data
	values := map[string]any{}
	if sec, ok := d["secrets"].(map[string]any); ok {
		for k, v := range sec {
			values[k] = v
		}
	}
	values["subject"], values["body"], values["name"] = subject, body, str(d, "name")
	u, _ := applyValues(str(d, "url"), values).(string)
	method := str(d, "method")
	if method == "" {
		method = "POST"
	}
	if params, ok := applyValues(d["params"], values).(map[string]any); ok && len(params) > 0 {
		pu, err := url.Parse(u)
		if err != nil {
			return failed("the custom webhook's URL is not valid")
		}
		q := pu.Query()
		for k, v := range params {
			q.Set(k, fmt.Sprint(v))
		}
		pu.RawQuery = q.Encode()
		u = pu.String()
	}
	headers := map[string]string{}
	if h, ok := applyValues(d["headers"], values).(map[string]any); ok {
		for k, v := range h {
			headers[k] = fmt.Sprint(v)
		}
	}
	if c, ok := applyValues(d["cookies"], values).(map[string]any); ok {
		var parts []string
		for k, v := range c {
			parts = append(parts, k+"="+fmt.Sprint(v))
		}
		if len(parts) > 0 {
			headers["Cookie"] = strings.Join(parts, "; ")
		}
	}
	var payload []byte
	switch {
	case d["json_data"] != nil && d["form_data"] != nil:
		return failed("both `Form Data` and `JSON Data` provided")
	case d["json_data"] != nil:
		payload = mustJSON(applyValues(d["json_data"], values))
		if _, set := headers["Content-Type"]; !set {
			headers["Content-Type"] = "application/json"
		}
	case d["form_data"] != nil:
		switch f := applyValues(d["form_data"], values).(type) {
		case string:
			payload = []byte(f)
		case map[string]any:
			form := url.Values{}
			for k, v := range f {
				form.Set(k, fmt.Sprint(v))
			}
			payload = []byte(form.Encode())
			if _, set := headers["Content-Type"]; !set {
				headers["Content-Type"] = "application/x-www-form-urlencoded"
			}
		}
	}
	client := s.cfg.HTTPClient
	if t, ok := d["timeout"].(float64); ok && t > 0 {
		c := *client
		c.Timeout = time.Duration(t * float64(time.Second))
		client = &c
	}
	return s.sendWith(ctx, client, method, u, boolean(d, "allow_private_urls", true), headers, payload, res)
}

// callWebhook is the call-webhook action: the Webhook block's method, URL
// and headers with the rendered payload as the body.
func (s *Service) callWebhook(ctx context.Context, ws model.ID, ta *TriggeredAction, res *actionResult) error {
	b, err := s.block(ctx, ws, ta, res)
	if err != nil {
		return err
	}
	if b.TypeSlug != "webhook" {
		return failed("The referenced block was not a webhook block")
	}
	rendered, err := s.newTemplateContext(ws, ta).renderAll(ctx, ta.Action.Payload)
	if err != nil {
		var fa *ActionFailed
		if errors.As(err, &fa) {
			res.details["template_error"] = fa.Reason
		}
		return err
	}
	d := b.Data
	method := str(d, "method")
	if method == "" {
		method = "POST"
	}
	headers := map[string]string{}
	if h, ok := d["headers"].(map[string]any); ok {
		for k, v := range h {
			headers[k] = fmt.Sprint(v)
		}
	}
	if _, set := headers["Content-Type"]; !set && json.Valid([]byte(rendered[0])) {
		headers["Content-Type"] = "application/json"
	}
	client := s.cfg.HTTPClient
	if !boolean(d, "verify", true) {
		c := *client
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the block asks for it
		client = &c
	}
	return s.sendWith(ctx, client, method, str(d, "url"), boolean(d, "allow_private_urls", true), headers, []byte(rendered[0]), res)
}

// sendEmail delivers a notification through an SMTP server (Baton's
// smtp-email block: smtp_server, smtp_port, smtp_type SSL|STARTTLS|
// INSECURE, username, password, from_email, to_emails) with the mail
// package's sender; its permanent refusals fail the action at once.
func (s *Service) sendEmail(ctx context.Context, d map[string]any, subject, body string, invocation model.ID) error {
	host := str(d, "smtp_server")
	if host == "" {
		return failed("the email block has no smtp_server")
	}
	from := str(d, "from_email")
	if from == "" {
		from = str(d, "username")
	}
	to := stringList(d["to_emails"])
	if from == "" || len(to) == 0 {
		return failed("the email block needs from_email and to_emails")
	}
	cfg := mail.Config{Host: host, Port: str(d, "smtp_port"), Mode: str(d, "smtp_type"), Username: str(d, "username"), Password: str(d, "password"), From: from}
	err := mail.Send(ctx, cfg, mail.Message{To: to, Subject: subject, Body: body, ID: invocation.String()})
	var pe *mail.PermanentError
	if errors.As(err, &pe) {
		return failed("%s", pe.Msg)
	}
	return err
}
