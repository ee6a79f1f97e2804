package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// Output formats of listings and inspections.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

var outputFormats = []string{formatTable, formatJSON, formatYAML}

// outputFlag adds -o/--output to cmd and returns where its value lands;
// the value is checked before the command runs.
func outputFlag(cmd *cobra.Command) *string {
	v := formatTable
	cmd.Flags().StringVarP(&v, "output", "o", formatTable, "output format: table, json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		v = strings.ToLower(v)
		switch v {
		case formatTable, formatJSON, formatYAML:
		default:
			return usageError(fmt.Sprintf("--output %q is not one of table, json, yaml", v))
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	return &v
}

// emit writes data in the chosen format; for "table" it calls render, which
// draws the human view. JSON and YAML carry the API's objects unchanged, so
// scripts see every field.
func (a *app) emit(format string, data any, render func(w io.Writer, pal palette)) error {
	w := a.env.Stdout
	switch format {
	case formatJSON:
		return writeJSON(w, data)
	case formatYAML:
		return writeYAML(w, data)
	}
	render(w, a.palette(w))
	return nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// writeYAML renders v's JSON form as YAML, keeping the JSON field order.
func writeYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	node, err := yamlNode(dec)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return err
	}
	return enc.Close()
}

// yamlNode reads one JSON value from dec as a YAML node.
func yamlNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if t == '{' {
			n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			child, err := yamlNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, child)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		if len(n.Content) == 0 {
			n.Style = yaml.FlowStyle
		}
		return n, nil
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
		if strings.Contains(t, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	default: // nil
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
}

// palette colours text when its stream is a terminal and NO_COLOR is unset
// (https://no-color.org); otherwise every method returns its input.
type palette struct{ on bool }

func (a *app) palette(w io.Writer) palette {
	if a.env.Getenv("NO_COLOR") != "" || a.env.Getenv("TERM") == "dumb" || a.env.Terminal == nil {
		return palette{}
	}
	_, ok := a.env.Terminal(w)
	return palette{on: ok}
}

func (p palette) wrap(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) bold(s string) string   { return p.wrap("1", s) }
func (p palette) dim(s string) string    { return p.wrap("2", s) }
func (p palette) red(s string) string    { return p.wrap("31", s) }
func (p palette) green(s string) string  { return p.wrap("32", s) }
func (p palette) yellow(s string) string { return p.wrap("33", s) }
func (p palette) blue(s string) string   { return p.wrap("34", s) }
func (p palette) cyan(s string) string   { return p.wrap("36", s) }

// state colours a state name by its type, as the web UI does.
func (p palette) state(stateType, name string) string {
	switch stateType {
	case "COMPLETED":
		return p.green(name)
	case "FAILED", "CRASHED":
		return p.red(name)
	case "RUNNING", "PENDING":
		return p.blue(name)
	case "CANCELLING", "CANCELLED", "PAUSED":
		return p.dim(name)
	case "SCHEDULED":
		if name == "Late" {
			return p.yellow(name)
		}
		return p.cyan(name)
	}
	return name
}

// table is a listing drawn in aligned columns. Cells are kept on one line
// (newlines and tabs become spaces) and, on a terminal, the widest
// shrinkable columns are cut with "…" until the table fits its width, so no
// field (an rrule schedule, a long name) can break the layout.
type table struct {
	headers []string
	rows    [][]string
	// keep marks columns that are never shortened (ids, which are copied).
	keep map[int]bool
	// color, when set for a column, colours its cells after padding.
	color map[int]func(row int, s string) string
}

func newTable(headers ...string) *table {
	return &table{headers: headers, keep: map[int]bool{}, color: map[int]func(int, string) string{}}
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// oneLine flattens a cell to a single line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t\v\f") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// cut shortens s to n runes, ending with "…".
func cut(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// minShrunk is the narrowest a shrinkable column gets.
const minShrunk = 10

// render draws the table into w, no wider than width when width > 0.
func (t *table) render(w io.Writer, pal palette, width int) {
	cols := len(t.headers)
	cells := make([][]string, 0, len(t.rows)+1)
	cells = append(cells, t.headers)
	for _, r := range t.rows {
		row := make([]string, cols)
		for i := range cols {
			if i < len(r) {
				row[i] = oneLine(r[i])
			}
		}
		cells = append(cells, row)
	}
	widths := make([]int, cols)
	for _, r := range cells {
		for i, c := range r {
			widths[i] = max(widths[i], runeLen(c))
		}
	}
	const gap = 2
	if width > 0 {
		total := func() int {
			s := gap * (cols - 1)
			for _, x := range widths {
				s += x
			}
			return s
		}
		for total() > width {
			widest := -1
			for i, x := range widths {
				if !t.keep[i] && x > minShrunk && (widest < 0 || x > widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest] = max(minShrunk, widths[widest]-(total()-width))
		}
	}
	for ri, r := range cells {
		var b strings.Builder
		for i, c := range r {
			c = cut(c, widths[i])
			pad := widths[i] - runeLen(c)
			switch {
			case ri == 0:
				c = pal.bold(c)
			case t.color[i] != nil:
				c = t.color[i](ri-1, c)
			}
			b.WriteString(c)
			if i < cols-1 {
				b.WriteString(strings.Repeat(" ", pad+gap))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// termWidth is w's width when it is a terminal (0: do not fit).
func (a *app) termWidth(w io.Writer) int {
	if a.env.Terminal == nil {
		return 0
	}
	cols, ok := a.env.Terminal(w)
	if !ok {
		return 0
	}
	return cols
}

// renderTable draws t on w, fitted to the terminal.
func (a *app) renderTable(w io.Writer, pal palette, t *table) {
	t.render(w, pal, a.termWidth(w))
}

// fields draws an inspection as aligned "key  value" lines, each on one
// line and cut to the terminal's width.
func (a *app) fields(w io.Writer, pal palette, kv [][2]string) {
	kw := 0
	for _, p := range kv {
		kw = max(kw, runeLen(p[0]))
	}
	width := a.termWidth(w)
	for _, p := range kv {
		v := oneLine(p[1])
		if width > 0 {
			v = cut(v, max(minShrunk, width-kw-2))
		}
		fmt.Fprintf(w, "%s%s  %s\n", pal.bold(p[0]), strings.Repeat(" ", kw-runeLen(p[0])), v)
	}
}
