package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// Kind is what applying does to one connector.
type Kind string

// The kinds of action, in the words apply prints.
const (
	Create    Kind = "create"
	Update    Kind = "update"
	Unchanged Kind = "unchanged"
	Delete    Kind = "delete"
	// Conflict is a rendered connector whose name Kafka Connect already
	// uses for a connector without the datasurface marker: it is left alone
	// and reported as a failure.
	Conflict Kind = "conflict"
)

// Action is one step of a plan.
type Action struct {
	Kind Kind
	Name string
	// File is the rendered file (empty for Delete).
	File string
	// Config is the config to PUT (Create and Update).
	Config map[string]string
	// Changed, Added and Removed are the config keys an Update changes:
	// values that differ, keys only rendered, keys only live.
	Changed, Added, Removed []string
}

// Plan compares the rendered connectors with the live configs (by name) and
// returns the actions that make Kafka Connect equal the rendered tree:
// first the deletions of managed connectors no longer rendered, then every
// rendered connector, each sorted by name.
//
// Kafka Connect stores a connector's name in its config; a rendered config
// without "name" is compared as if it had it.
func Plan(rendered []Connector, live map[string]map[string]string) []Action {
	want := map[string]bool{}
	for _, c := range rendered {
		want[c.Name] = true
	}
	var out []Action
	var gone []string
	for name, cfg := range live {
		if !want[name] && Managed(cfg) {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		out = append(out, Action{Kind: Delete, Name: name})
	}
	sorted := append([]Connector(nil), rendered...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, c := range sorted {
		a := Action{Name: c.Name, File: c.File, Config: c.Config}
		cur, exists := live[c.Name]
		switch {
		case !exists:
			a.Kind = Create
		case !Managed(cur):
			a.Kind = Conflict
		default:
			desired := map[string]string{"name": c.Name}
			for k, v := range c.Config {
				desired[k] = v
			}
			for k, v := range desired {
				lv, ok := cur[k]
				switch {
				case !ok:
					a.Added = append(a.Added, k)
				case lv != v:
					a.Changed = append(a.Changed, k)
				}
			}
			for k := range cur {
				if _, ok := desired[k]; !ok {
					a.Removed = append(a.Removed, k)
				}
			}
			sort.Strings(a.Changed)
			sort.Strings(a.Added)
			sort.Strings(a.Removed)
			a.Kind = Unchanged
			if len(a.Changed)+len(a.Added)+len(a.Removed) > 0 {
				a.Kind = Update
			}
		}
		out = append(out, a)
	}
	return out
}

// Options tune Apply.
type Options struct {
	// DryRun reads Kafka Connect's connectors and prints the plan, changing
	// nothing.
	DryRun bool
	// Out receives one line per connector; Err one line per failure.
	Out, Err io.Writer
}

// Failure is an action that failed.
type Failure struct {
	Action Action
	Err    error
}

func (f Failure) Error() string {
	if f.Action.Kind == Conflict {
		return fmt.Sprintf("%s (%s): %v", f.Action.Name, f.Action.File, f.Err)
	}
	return fmt.Sprintf("%s: %s failed: %v", f.Action.Name, f.Action.Kind, f.Err)
}

// Report is what Apply did (or, in a dry run, would do).
type Report struct {
	DryRun   bool
	Actions  []Action
	Failures []Failure
}

// Count returns how many actions of kind k succeeded (or would run).
func (r *Report) Count(k Kind) int {
	n := 0
	for _, a := range r.Actions {
		if a.Kind == k {
			n++
		}
	}
	for _, f := range r.Failures {
		if f.Action.Kind == k {
			n--
		}
	}
	return n
}

// ErrFailed is wrapped by the error Apply returns when some connectors
// failed; each failure was printed to Options.Err.
var ErrFailed = errors.New("connectors failed")

var errConflict = fmt.Errorf("a connector of this name exists in Kafka Connect without %s=true (datasurface did not create it); it is left alone: delete or rename it, or add the marker to hand it over", ManagedKey)

// Apply makes Kafka Connect's connectors equal the rendered ones: it lists
// the live connectors, then deletes the managed ones no longer rendered
// (first, so that a renamed connector's predecessor releases what they
// share, such as a replication slot) and creates or updates every rendered
// connector whose live config differs. Connectors are independent: a
// failure is reported and the others are still applied. The error is
// non-nil when the connectors could not be listed, or wraps ErrFailed when
// some failed. A connector that is already gone when it is deleted counts as
// deleted.
func Apply(ctx context.Context, c *Client, rendered []Connector, opt Options) (*Report, error) {
	out, errw := opt.Out, opt.Err
	if out == nil {
		out = io.Discard
	}
	if errw == nil {
		errw = io.Discard
	}
	live, err := c.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing Kafka Connect's connectors: %w", err)
	}
	r := &Report{DryRun: opt.DryRun, Actions: Plan(rendered, live)}
	for i := range r.Actions {
		a := &r.Actions[i]
		if err := ctx.Err(); err != nil {
			return r, err
		}
		var err error
		switch a.Kind {
		case Conflict:
			err = errConflict
		case Delete:
			if !opt.DryRun {
				err = c.Delete(ctx, a.Name)
				var ae *APIError
				if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
					err = nil
				}
			}
		case Create, Update:
			if !opt.DryRun {
				var created bool
				created, err = c.Put(ctx, a.Name, a.Config)
				switch {
				case err != nil:
				case created:
					a.Kind = Create
				case a.Kind == Create:
					// Someone else created it since it was listed.
					a.Kind = Update
				}
			}
		}
		if err != nil {
			f := Failure{Action: *a, Err: err}
			r.Failures = append(r.Failures, f)
			fmt.Fprintf(out, "%-9s %s\n", "failed", a.Name)
			fmt.Fprintln(errw, "error:", f.Error())
			continue
		}
		fmt.Fprintf(out, "%-9s %s%s\n", a.Kind, a.Name, detail(*a))
	}
	if opt.DryRun {
		fmt.Fprintf(out, "dry run, nothing changed: %d to create, %d to update, %d unchanged, %d to delete, %d conflicts\n",
			r.Count(Create), r.Count(Update), r.Count(Unchanged), r.Count(Delete), len(r.Failures))
	} else {
		fmt.Fprintf(out, "%d created, %d updated, %d unchanged, %d deleted, %d failed\n",
			r.Count(Create), r.Count(Update), r.Count(Unchanged), r.Count(Delete), len(r.Failures))
	}
	if len(r.Failures) > 0 {
		return r, fmt.Errorf("%d of %d %w", len(r.Failures), len(r.Actions), ErrFailed)
	}
	return r, nil
}

// detail names the keys an update changes (never the values: they may be
// secrets' placeholders today and secrets tomorrow).
func detail(a Action) string {
	var parts []string
	for _, g := range []struct {
		what string
		keys []string
	}{{"changed", a.Changed}, {"added", a.Added}, {"removed", a.Removed}} {
		if len(g.keys) > 0 {
			parts = append(parts, g.what+" "+strings.Join(g.keys, ", "))
		}
	}
	if a.Kind != Update || len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}
