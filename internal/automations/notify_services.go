package automations

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// Incident and SMS services behind Prefect's notification blocks
// (PagerDutyWebHook, TwilioSMS, OpsgenieWebhook). Prefect delivers them
// through Apprise; Baton calls the same public APIs with the same requests:
// PagerDuty's Events API v2, Twilio's Messages resource and Opsgenie's
// Alert API.

// Service names for Config.ServiceURLs.
const (
	ServicePagerDuty   = "pagerduty"
	ServicePagerDutyEU = "pagerduty-eu"
	ServiceTwilio      = "twilio"
	ServiceOpsgenie    = "opsgenie"
	ServiceOpsgenieEU  = "opsgenie-eu"
)

// defaultServiceURLs are the services' public API roots.
var defaultServiceURLs = map[string]string{
	ServicePagerDuty:   "https://events.pagerduty.com",
	ServicePagerDutyEU: "https://events.eu.pagerduty.com",
	ServiceTwilio:      "https://api.twilio.com",
	ServiceOpsgenie:    "https://api.opsgenie.com",
	ServiceOpsgenieEU:  "https://api.eu.opsgenie.com",
}

// serviceURL is the API root of a service: Config.ServiceURLs' entry when
// there is one, else the public one.
func (s *Service) serviceURL(name string) string {
	if u := s.cfg.ServiceURLs[name]; u != "" {
		return strings.TrimRight(u, "/")
	}
	return defaultServiceURLs[name]
}

// titled is Apprise's way with services that have no title field: the
// title becomes the message's first line.
func titled(subject, body string) string {
	if subject == "" {
		return body
	}
	return subject + "\r\n" + body
}

func notifyType(d map[string]any) string {
	if t := str(d, "notify_type"); t != "" {
		return t
	}
	return "info"
}

func stringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

// pagerDuty triggers an incident through the Events API v2.
func (s *Service) pagerDuty(ctx context.Context, d map[string]any, subject, body string, res *actionResult) error {
	key, token := str(d, "integration_key"), str(d, "api_key")
	if key == "" || token == "" {
		return failed("the PagerDuty block needs integration_key and api_key")
	}
	severity := map[string]string{"info": "info", "success": "info", "warning": "warning", "failure": "critical"}[notifyType(d)]
	if severity == "" {
		severity = "info"
	}
	source := str(d, "source")
	if source == "" {
		source = "Prefect"
	}
	component := str(d, "component")
	if component == "" {
		component = "Notification"
	}
	inner := map[string]any{"summary": truncate(titled(subject, body), 1024), "severity": severity, "source": source, "component": component}
	if g := str(d, "group"); g != "" {
		inner["group"] = g
	}
	if c := str(d, "class_id"); c != "" {
		inner["class"] = c
	}
	if cd := stringMap(d["custom_details"]); len(cd) > 0 {
		inner["custom_details"] = cd
	}
	msg := map[string]any{"routing_key": key, "event_action": "trigger", "client": "Prefect Notifications", "payload": inner}
	if u := str(d, "clickable_url"); u != "" {
		msg["links"] = []any{map[string]string{"href": u}}
	}
	svc := ServicePagerDuty
	if str(d, "region_name") == "eu" {
		svc = ServicePagerDutyEU
	}
	return s.send(ctx, "POST", s.serviceURL(svc)+"/v2/enqueue", true,
		map[string]string{"Content-Type": "application/json", "Authorization": "Token token=" + token}, mustJSON(msg), res)
}

// twilioSMS sends one SMS per recipient through Twilio's Messages
// resource.
func (s *Service) twilioSMS(ctx context.Context, d map[string]any, subject, body string, res *actionResult) error {
	sid, token, from := str(d, "account_sid"), str(d, "auth_token"), str(d, "from_phone_number")
	to := stringList(d["to_phone_numbers"])
	if sid == "" || token == "" || from == "" || len(to) == 0 {
		return failed("the Twilio SMS block needs account_sid, auth_token, from_phone_number and to_phone_numbers")
	}
	endpoint := s.serviceURL(ServiceTwilio) + "/2010-04-01/Accounts/" + url.PathEscape(sid) + "/Messages.json"
	headers := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(sid+":"+token))}
	text := titled(subject, body)
	for _, number := range to {
		form := url.Values{"From": {phone(from)}, "To": {phone(number)}, "Body": {text}}
		// A retry after a later recipient failed must not text this one
		// again.
		if err := res.deliverOnce("twilio-sms:"+phone(number), func() error {
			return s.send(ctx, "POST", endpoint, true, headers, []byte(form.Encode()), res)
		}); err != nil {
			return err
		}
	}
	return nil
}

// phone writes a number in E.164 form (Apprise adds the leading +).
func phone(n string) string {
	n = strings.TrimSpace(n)
	if strings.HasPrefix(n, "+") {
		return n
	}
	return "+" + n
}

// opsgenie creates an alert through Opsgenie's Alert API: one alert for
// all targets with batch, else one per target (Apprise's behaviour).
func (s *Service) opsgenie(ctx context.Context, d map[string]any, subject, body string, res *actionResult) error {
	key := str(d, "apikey")
	if key == "" {
		return failed("the Opsgenie block needs apikey")
	}
	message := subject
	if message == "" {
		message = body
	}
	priority := 3
	if p, ok := d["priority"].(float64); ok && p >= 1 && p <= 5 {
		priority = int(p)
	}
	base := map[string]any{"source": "Prefect Notifications", "message": truncate(message, 130), "description": truncate(body, 15000),
		"priority": fmt.Sprintf("P%d", priority)}
	if details := stringMap(d["details"]); len(details) > 0 {
		base["details"] = details
	}
	if tags := stringList(d["tags"]); len(tags) > 0 {
		base["tags"] = tags
	}
	if a := str(d, "alias"); a != "" {
		base["alias"] = a
	}
	if e := str(d, "entity"); e != "" {
		base["entity"] = e
	}
	var responders []map[string]string
	add := func(field, typ string) {
		for _, target := range stringList(d[field]) {
			r := map[string]string{"type": typ}
			switch typ {
			case "user":
				r["username"] = target
			default:
				r["name"] = target
			}
			responders = append(responders, r)
		}
	}
	add("target_user", "user")
	add("target_team", "team")
	add("target_schedule", "schedule")
	add("target_escalation", "escalation")
	svc := ServiceOpsgenie
	if str(d, "region_name") == "eu" {
		svc = ServiceOpsgenieEU
	}
	endpoint := s.serviceURL(svc) + "/v2/alerts"
	headers := map[string]string{"Content-Type": "application/json", "Authorization": "GenieKey " + key}
	var batches [][]map[string]string
	switch {
	case len(responders) == 0:
		batches = [][]map[string]string{nil}
	case boolean(d, "batch", false):
		batches = [][]map[string]string{responders}
	default:
		for _, r := range responders {
			batches = append(batches, []map[string]string{r})
		}
	}
	for i, rs := range batches {
		msg := make(map[string]any, len(base)+1)
		for k, v := range base {
			msg[k] = v
		}
		if len(rs) > 0 {
			msg["responders"] = rs
		}
		// A retry after a later alert failed must not page these
		// responders again.
		if err := res.deliverOnce(fmt.Sprintf("opsgenie-alert:%d", i), func() error {
			return s.send(ctx, "POST", endpoint, true, headers, mustJSON(msg), res)
		}); err != nil {
			return err
		}
	}
	return nil
}
