package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/worker"
)

// Client-side verbs for what a workspace holds besides runs: variables,
// blocks and automations. They cover what an operator reaches for without a
// Python environment at hand (read a variable, see which blocks exist,
// switch an automation off during an incident); creating blocks and
// automations stays with Prefect's client, which knows their schemas.

// completionTimeout bounds the server call behind a shell completion.
const completionTimeout = 3 * time.Second

// --- variables

// variableValue reads a value the way `prefect variable set` does: JSON
// when it parses as JSON (42, true, {"a": 1}, "quoted"), else the text.
func variableValue(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

func (a *app) variableCmd() *cobra.Command {
	ls := &cobra.Command{Use: "ls", Short: "List variables", Args: noArgs}
	lsOut := outputFlag(ls)
	var limit int
	ls.Flags().IntVar(&limit, "limit", 100, "the most variables to list")
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		if limit < 1 {
			return usageError("--limit must be at least 1")
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		var vars []model.Variable
		if err := c.Do(cmd.Context(), "POST", "/variables/filter", map[string]any{"sort": "NAME_ASC", "limit": limit}, &vars); err != nil {
			return err
		}
		return a.emit(*lsOut, nonNilSlice(vars), func(w io.Writer, pal palette) {
			if len(vars) == 0 {
				fmt.Fprintln(w, "No variables yet. Set one with `baton variable set NAME VALUE`.")
				return
			}
			t := newTable("NAME", "VALUE", "TAGS", "UPDATED")
			for _, v := range vars {
				t.add(v.Name, string(v.Value), strings.Join(v.Tags, ","), localTime(&v.Updated))
			}
			a.renderTable(w, pal, t)
		})
	}

	get := &cobra.Command{
		Use:               "get NAME",
		Short:             "Print a variable's value (JSON)",
		Long:              "Print the value of the variable NAME as JSON, as `prefect variable get` does. --output json|yaml prints the whole variable (id, tags, times).",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeVariables,
	}
	getOut := outputFlag(get)
	get.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		v, err := findVariable(cmd.Context(), c, args[0])
		if err != nil {
			return err
		}
		return a.emit(*getOut, v, func(w io.Writer, pal palette) { fmt.Fprintln(w, string(v.Value)) })
	}

	var overwrite bool
	var tags []string
	set := &cobra.Command{
		Use:   "set NAME VALUE",
		Short: "Create a variable, or change one with --overwrite",
		Long: `Set the variable NAME to VALUE. VALUE is read as JSON when it is JSON (42, true, [1,2],
'{"a": 1}', '"text"'), else as text, as 'prefect variable set' reads it.`,
		Args: exactArgs("NAME", "VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			name, value := args[0], variableValue(args[1])
			body := map[string]any{"name": name, "value": value, "tags": nonNilSlice(splitList(tags))}
			err = c.Do(cmd.Context(), "POST", "/variables/", body, nil)
			if worker.IsStatus(err, 409) {
				if !overwrite {
					return fmt.Errorf("variable %q already exists; pass --overwrite to change it", name)
				}
				if !cmd.Flags().Changed("tag") {
					delete(body, "tags") // keep the tags it has
				}
				err = c.Do(cmd.Context(), "PATCH", "/variables/name/"+url.PathEscape(name), body, nil)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Set variable %s.\n", name)
			return nil
		},
	}
	set.Flags().BoolVar(&overwrite, "overwrite", false, "change the variable if it exists")
	set.Flags().StringSliceVar(&tags, "tag", nil, "a tag for the variable (repeat or comma-separate for several)")

	unset := &cobra.Command{
		Use:               "unset NAME",
		Aliases:           []string{"delete"},
		Short:             "Delete a variable",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeVariables,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			err = c.Do(cmd.Context(), "DELETE", "/variables/name/"+url.PathEscape(args[0]), nil, nil)
			if worker.IsStatus(err, 404) {
				return fmt.Errorf("no variable %q (baton variable ls)", args[0])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Deleted variable %s.\n", args[0])
			return nil
		},
	}
	return group("variable", "List, read, set and delete variables", ls, get, set, unset)
}

func findVariable(ctx context.Context, c *worker.Client, name string) (model.Variable, error) {
	var v model.Variable
	err := c.Do(ctx, "GET", "/variables/name/"+url.PathEscape(name), nil, &v)
	if worker.IsStatus(err, 404) {
		return v, fmt.Errorf("no variable %q (baton variable ls)", name)
	}
	return v, err
}

// completeVariables offers variable names from the server.
func (a *app) completeVariables(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var vars []model.Variable
	a.completeFrom(cmd, args, "/variables/filter", map[string]any{"sort": "NAME_ASC", "limit": 200}, &vars)
	out := make([]string, 0, len(vars))
	for _, v := range vars {
		out = append(out, v.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeFrom fills out with the answer of a filter route for completing
// the first positional argument; any failure completes nothing.
func (a *app) completeFrom(cmd *cobra.Command, args []string, path string, body, out any) {
	if len(args) > 0 {
		return
	}
	c, err := a.client()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	_ = c.Do(ctx, "POST", path, body, out)
}

// --- blocks

// blockName is how a block is named on the command line and by
// Block.load(): its type's slug, a slash, its name.
func blockName(d model.BlockDocument) string {
	slug := ""
	if d.BlockType != nil {
		slug = d.BlockType.Slug
	}
	return slug + "/" + deref(d.Name, "")
}

func (a *app) blockCmd() *cobra.Command {
	ls := &cobra.Command{Use: "ls", Short: "List blocks (secret fields are never shown)", Args: noArgs}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var docs []model.BlockDocument
		q := map[string]any{"block_documents": map[string]any{"is_anonymous": map[string]any{"eq_": false}}, "sort": "BLOCK_TYPE_AND_NAME_ASC", "include_secrets": false}
		if err := c.Do(cmd.Context(), "POST", "/block_documents/filter", q, &docs); err != nil {
			return err
		}
		return a.emit(*lsOut, nonNilSlice(docs), func(w io.Writer, pal palette) {
			if len(docs) == 0 {
				fmt.Fprintln(w, "No blocks yet. Save one with Block.save() or `prefect block create`.")
				return
			}
			t := newTable("BLOCK", "TYPE", "ID")
			t.keep[2] = true
			for _, d := range docs {
				typ := "-"
				if d.BlockType != nil {
					typ = d.BlockType.Name
				}
				t.add(blockName(d), typ, d.ID.String())
			}
			a.renderTable(w, pal, t)
		})
	}

	inspect := &cobra.Command{
		Use:   "inspect SLUG/NAME|ID",
		Short: "Show a block (secret fields read as ********)",
		Long:  "Show the block named SLUG/NAME (as Block.load() names it, e.g. secret/db-password) or with that id. Secret fields are obfuscated by the server. --output json|yaml prints every field.",
		Args:  exactArgs("SLUG/NAME|ID"),
	}
	inspOut := outputFlag(inspect)
	inspect.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		var d model.BlockDocument
		ref := args[0]
		if id, perr := model.ParseID(ref); perr == nil {
			err = c.Do(cmd.Context(), "GET", "/block_documents/"+id.String(), nil, &d)
		} else {
			slug, name, ok := strings.Cut(ref, "/")
			if !ok || slug == "" || name == "" {
				return usageError(fmt.Sprintf("%q is not SLUG/NAME or a block id (baton block ls shows both)", ref))
			}
			err = c.Do(cmd.Context(), "GET", "/block_types/slug/"+url.PathEscape(slug)+"/block_documents/name/"+url.PathEscape(name), nil, &d)
		}
		if worker.IsStatus(err, 404) {
			return fmt.Errorf("no block %q (baton block ls)", ref)
		}
		if err != nil {
			return err
		}
		return a.emit(*inspOut, d, func(w io.Writer, pal palette) {
			typ := "-"
			if d.BlockType != nil {
				typ = d.BlockType.Name
			}
			kv := [][2]string{
				{"block", blockName(d)}, {"id", d.ID.String()}, {"type", typ},
				{"updated", localTime(&d.Updated)}, {"web UI", a.link("/blocks/block/" + d.ID.String())},
			}
			keys := make([]string, 0, len(d.Data))
			for k := range d.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				b, _ := json.Marshal(d.Data[k])
				kv = append(kv, [2]string{"data." + k, string(b)})
			}
			a.fields(w, pal, kv)
		})
	}
	return group("block", "List and inspect blocks", ls, inspect)
}

// --- automations

// automationView is what the automation table and lookups need of an
// automation; the JSON and YAML outputs print the server's object whole.
type automationView struct {
	ID          model.ID `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	Trigger     struct {
		Type     string          `json:"type"`
		Posture  string          `json:"posture"`
		Expect   []string        `json:"expect"`
		After    []string        `json:"after"`
		Within   float64         `json:"within"`
		Triggers json.RawMessage `json:"triggers"`
	} `json:"trigger"`
	Actions []struct {
		Type string `json:"type"`
	} `json:"actions"`
}

// describeTrigger says in a few words what fires the automation.
func (v automationView) describeTrigger() string {
	t := v.Trigger
	switch t.Type {
	case model.TriggerCompound, model.TriggerSequence:
		var kids []json.RawMessage
		_ = json.Unmarshal(t.Triggers, &kids)
		return fmt.Sprintf("%s of %d triggers", t.Type, len(kids))
	case model.TriggerMetric:
		return "metric"
	}
	s := strings.ToLower(t.Posture)
	if s == "" {
		s = "event"
	}
	if len(t.Expect) > 0 {
		s += " " + strings.Join(t.Expect, ",")
	}
	if t.Posture == model.PostureProactive && t.Within > 0 {
		s += " within " + strconv.FormatFloat(t.Within, 'f', -1, 64) + "s"
	}
	return s
}

// automations lists the workspace's automations, as the server's objects
// and as views of them (the same order).
func listAutomations(ctx context.Context, c *worker.Client, body any) ([]json.RawMessage, []automationView, error) {
	var raw []json.RawMessage
	if err := c.Do(ctx, "POST", "/automations/filter", body, &raw); err != nil {
		return nil, nil, err
	}
	views := make([]automationView, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &views[i]); err != nil {
			return nil, nil, fmt.Errorf("the server's automation is not readable: %w", err)
		}
	}
	return nonNilSlice(raw), views, nil
}

// findAutomation accepts an automation's name or id; a name several
// automations share is refused with their ids.
func findAutomation(ctx context.Context, c *worker.Client, ref string) (json.RawMessage, automationView, error) {
	var filter map[string]any
	if id, err := model.ParseID(ref); err == nil {
		filter = map[string]any{"id": map[string]any{"any_": []string{id.String()}}}
	} else {
		filter = map[string]any{"name": map[string]any{"any_": []string{ref}}}
	}
	raw, views, err := listAutomations(ctx, c, map[string]any{"automations": filter})
	if err != nil {
		return nil, automationView{}, err
	}
	switch len(views) {
	case 0:
		return nil, automationView{}, fmt.Errorf("no automation %q (baton automation ls)", ref)
	case 1:
		return raw[0], views[0], nil
	}
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = v.ID.String()
	}
	return nil, automationView{}, fmt.Errorf("%d automations are named %q; name one by its id: %s", len(views), ref, strings.Join(ids, ", "))
}

func (a *app) automationCmd() *cobra.Command {
	ls := &cobra.Command{Use: "ls", Short: "List automations", Args: noArgs}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		raw, views, err := listAutomations(cmd.Context(), c, map[string]any{"sort": "NAME_ASC"})
		if err != nil {
			return err
		}
		return a.emit(*lsOut, raw, func(w io.Writer, pal palette) {
			if len(views) == 0 {
				fmt.Fprintln(w, "No automations yet. Create one in the web UI, with Automation(...).create() or `prefect automation create`.")
				return
			}
			t := newTable("NAME", "ENABLED", "TRIGGER", "ACTIONS", "ID")
			t.keep[4] = true
			t.color[1] = func(row int, s string) string {
				if views[row].Enabled {
					return pal.green(s)
				}
				return pal.yellow(s)
			}
			for _, v := range views {
				acts := make([]string, len(v.Actions))
				for i, x := range v.Actions {
					acts[i] = x.Type
				}
				t.add(v.Name, strconv.FormatBool(v.Enabled), v.describeTrigger(), strings.Join(acts, ","), v.ID.String())
			}
			a.renderTable(w, pal, t)
		})
	}

	inspect := &cobra.Command{
		Use:               "inspect NAME|ID",
		Short:             "Show an automation",
		Long:              "Show the automation named NAME (or with that id). --output json|yaml prints its whole definition.",
		Args:              exactArgs("NAME|ID"),
		ValidArgsFunction: a.completeAutomations,
	}
	inspOut := outputFlag(inspect)
	inspect.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		raw, v, err := findAutomation(cmd.Context(), c, args[0])
		if err != nil {
			return err
		}
		return a.emit(*inspOut, raw, func(w io.Writer, pal palette) {
			acts := make([]string, len(v.Actions))
			for i, x := range v.Actions {
				acts[i] = x.Type
			}
			a.fields(w, pal, [][2]string{
				{"name", v.Name}, {"id", v.ID.String()}, {"enabled", strconv.FormatBool(v.Enabled)},
				{"description", v.Description}, {"trigger", v.describeTrigger()}, {"actions", strings.Join(acts, ", ")},
				{"web UI", a.link("/automations/automation/" + v.ID.String())},
			})
		})
	}

	toggle := func(enable bool) *cobra.Command {
		verb, short, done := "pause", "Disable an automation (it stops firing)", "Paused"
		if enable {
			verb, short, done = "resume", "Enable a paused automation", "Resumed"
		}
		return &cobra.Command{
			Use:               verb + " NAME|ID",
			Short:             short,
			Args:              exactArgs("NAME|ID"),
			ValidArgsFunction: a.completeAutomations,
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := a.client()
				if err != nil {
					return err
				}
				_, v, err := findAutomation(cmd.Context(), c, args[0])
				if err != nil {
					return err
				}
				if err := c.Do(cmd.Context(), "PATCH", "/automations/"+v.ID.String(), map[string]any{"enabled": enable}, nil); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "%s automation %s (%s).\n", done, v.Name, v.ID)
				return nil
			},
		}
	}
	return group("automation", "List, inspect, pause and resume automations", ls, inspect, toggle(false), toggle(true))
}

// completeAutomations offers automation names from the server.
func (a *app) completeAutomations(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var autos []automationView
	a.completeFrom(cmd, args, "/automations/filter", map[string]any{"sort": "NAME_ASC"}, &autos)
	out := make([]string, 0, len(autos))
	for _, v := range autos {
		out = append(out, v.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
