// Package check is the merge-request check: one verdict on a model change
// from the head's lint, the authorization of every region it changes
// against the merge request's source, the compatibility of every dataset
// change for its consumers, and the plan of what the merge would deploy.
package check

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// Problem codes of the authorization and compatibility findings; lint's
// and the loader's codes keep their own.
const (
	CodeNotOwner   = "auth-not-owner"    // a region changed by a source that does not own it
	CodeNoOwner    = "auth-no-owner"     // a region nothing declares, so nobody may change it
	CodeNoSource   = "auth-no-source"    // the merge request's source is unknown
	CodeCompatPref = "compat-"           // + the evolution rule, e.g. compat-narrow
	CodeBaseUnread = "check-base-unread" // the base cannot be read
	CodePlan       = "check-plan"        // the plan could not be rendered
)

// Input is what a check compares.
type Input struct {
	Base, Head         *model.Model
	BaseErrs, HeadErrs []*model.LoadError
	// Source is the merge request's source as <project path>@<branch>.
	Source    string
	Generator generator.Options
}

// Result is the check's verdict and what it is made of.
type Result struct {
	Source string
	// Problems are every finding, errors first: the head's load errors and
	// lint problems, authorization refusals, compatibility refusals and
	// warnings.
	Problems []lint.Problem
	// Regions are the regions the change touches, with their owners.
	Regions []model.RegionChange
	// Compatibility judges every dataset change.
	Compatibility []model.DatasetEvolution
	// Plan is what the merge would deploy; nil when the head cannot be
	// rendered (it has errors).
	Plan *generator.PlanResult
}

// Run checks a model change.
func Run(ctx context.Context, in Input) (*Result, error) {
	r := &Result{Source: strings.TrimSpace(in.Source)}
	r.Problems = append(r.Problems, lint.FromLoadErrors(in.HeadErrs)...)
	for _, e := range in.BaseErrs {
		r.Problems = append(r.Problems, lint.Problem{Code: CodeBaseUnread, Severity: lint.Error, Pos: e.Pos,
			Message: "the base model cannot be read (" + e.Code + ": " + e.Msg + "), so the change cannot be judged; fix the target branch first"})
	}
	if len(in.HeadErrs) > 0 || len(in.BaseErrs) > 0 {
		lint.Sort(r.Problems)
		return r, nil
	}
	r.Problems = append(r.Problems, lint.Lint(in.Head)...)

	r.Regions = model.Changes(in.Base, in.Head)
	if r.Source == "" && len(r.Regions) > 0 {
		r.Problems = append(r.Problems, lint.Problem{Code: CodeNoSource, Severity: lint.Error,
			Message: "the merge request's source is unknown, so no change can be authorized; pass --source <project path>@<branch> (in a merge-request pipeline it comes from CI_MERGE_REQUEST_SOURCE_PROJECT_PATH and CI_MERGE_REQUEST_SOURCE_BRANCH_NAME)"})
	} else {
		for _, c := range model.Authorize(r.Regions, r.Source) {
			p := lint.Problem{Code: CodeNotOwner, Severity: lint.Error, Pos: c.Pos, Path: c.Region.String()}
			if c.Owner == "" {
				p.Code = CodeNoOwner
				p.Message = fmt.Sprintf("%s changes (%s) but nothing declares who owns it; declare it in its parent first", c.Region, strings.Join(c.Changes, "; "))
			} else {
				p.Message = fmt.Sprintf("%s is owned by %s, not by this merge request's source %s: %s; make this change from %s", c.Region, c.Owner, r.Source, strings.Join(c.Changes, "; "), c.Owner)
			}
			r.Problems = append(r.Problems, p)
		}
	}

	r.Compatibility = model.Compatibility(in.Base, in.Head)
	judgeDeprecatedSinks(in.Base, in.Head, r.Compatibility, r.Problems)
	for _, e := range r.Compatibility {
		switch {
		case !e.Allowed:
			msg := evolutionText(e)
			if e.Rule != model.RuleDropDataset { // whose message names the consumers already
				msg += "; " + consumersText(e.Consumers) + " could no longer read it"
			}
			r.Problems = append(r.Problems, lint.Problem{Code: CodeCompatPref + e.Rule, Severity: lint.Error, Pos: e.Pos, Path: evolutionPath(e),
				Message: msg + " (rule " + e.Rule + ")"})
		case e.Warning:
			r.Problems = append(r.Problems, lint.Problem{Code: CodeCompatPref + e.Rule, Severity: lint.Warning, Pos: e.Pos, Path: evolutionPath(e), Message: e.Message})
		}
	}
	lint.Sort(r.Problems)

	if errs, _, _ := lint.Count(r.Problems); errs > 0 && hasLintError(r.Problems) {
		return r, nil // only a model without lint errors renders
	}
	opts := in.Generator
	opts.Scope = generator.ChangeScope(in.Base, in.Head)
	plan, err := generator.PlanContext(ctx, in.Base, in.Head, opts)
	var side *generator.SideError
	switch {
	case err == nil:
		r.Plan = plan
	case errors.As(err, &side) && side.Side == generator.SideHead:
		// What check passes, the default branch must generate and publish.
		r.Problems = append(r.Problems, lint.Problem{Code: CodePlan, Severity: lint.Error,
			Message: "the proposed model cannot be rendered, so generate and publish would fail once it merges: " + side.Err.Error() + "; change the model so that it renders"})
		lint.Sort(r.Problems)
	case errors.As(err, &side):
		// The base is the target branch; if it does not render, say so
		// rather than block every change, the one that repairs it included.
		r.Problems = append(r.Problems, lint.Problem{Code: CodePlan, Severity: lint.Warning,
			Message: "the plan could not be made: the target branch's model does not render (" + side.Err.Error() + "); the proposed model renders"})
		lint.Sort(r.Problems)
	default:
		return nil, err
	}
	return r, nil
}

// judgeDeprecatedSinks refines lint's sink-deprecated warnings, which lint
// never makes errors (a deprecation must leave the default branch valid
// while consumers still sink the dataset): a sink this merge request adds
// on a deprecated dataset without deprecations_allowed is refused, since a
// consumer must not start on data being retired; the existing sinks of a
// dataset this merge request deprecates say so.
func judgeDeprecatedSinks(base, head *model.Model, compat []model.DatasetEvolution, ps []lint.Problem) {
	at := map[model.Pos]*lint.Problem{}
	for i := range ps {
		if ps[i].Code == lintSinkDeprecated {
			at[ps[i].Pos] = &ps[i]
		}
	}
	if len(at) == 0 {
		return
	}
	deprecatedHere := map[string]bool{}
	for _, e := range compat {
		if e.Rule == model.RuleDeprecate {
			deprecatedHere[e.Dataset] = true
		}
	}
	// A zone the two sides share is unchanged: its sinks are not new.
	shared := map[*model.Zone]bool{}
	for _, z := range base.Zones {
		shared[z] = true
	}
	before := map[string]bool{} // workspace \x00 datastore.dataset
	for _, z := range base.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				for _, g := range w.Groups {
					for _, s := range g.Sinks {
						before[w.Name+"\x00"+s.String()] = true
					}
				}
			}
		}
	}
	stores := map[string]*model.Datastore{}
	for _, z := range head.Zones {
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				stores[ds.Name] = ds
			}
			for _, w := range t.Workspaces {
				for i := range w.Transformers {
					if out := w.Transformers[i].Output; out != nil {
						stores[out.Name] = out
					}
				}
			}
		}
	}
	for _, z := range head.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				for _, g := range w.Groups {
					for _, s := range g.Sinks {
						p := at[s.Pos]
						if p == nil {
							continue
						}
						ds := stores[s.Datastore]
						var d *model.Dataset
						if ds != nil {
							for i := range ds.Datasets {
								if ds.Datasets[i].Name == s.Dataset {
									d = &ds.Datasets[i]
								}
							}
						}
						dep := lint.DeprecationOf(ds, d)
						if dep == nil {
							continue
						}
						isNew := !shared[z] && !before[w.Name+"\x00"+s.String()]
						switch {
						case isNew && !s.DeprecationsAllowed:
							p.Severity = lint.Error
							p.Message = fmt.Sprintf("%s is deprecated (%s), and this merge request adds it as a new sink of workspace %s: a new consumer must not start on data being retired; sink%s instead, or acknowledge the deprecation with {dataset: %s, deprecations_allowed: true}",
								s, dep.Reason, w.Name, replacementOrElse(dep), s)
						case deprecatedHere[s.String()]:
							p.Message += " (deprecated by this merge request: the workspace's owner should acknowledge or move; the dataset cannot be removed while it is sunk)"
						}
					}
				}
			}
		}
	}
}

// lintSinkDeprecated is lint's code for a sink on a deprecated dataset.
const lintSinkDeprecated = "sink-deprecated"

func replacementOrElse(dep *model.Deprecation) string {
	if dep.Replacement != "" {
		return " " + dep.Replacement
	}
	return " its replacement"
}

// evolutionText says an evolution once: "<dataset> column <what changed>".
func evolutionText(e model.DatasetEvolution) string {
	switch {
	case e.Path != "" && strings.HasPrefix(e.Message, e.Path+" "):
		return e.Dataset + " column " + e.Message
	case e.Path != "":
		return e.Dataset + " column " + e.Path + ": " + e.Message
	}
	return e.Dataset + ": " + e.Message
}

// evolutionPath is the object an evolution concerns, in lint's path form.
func evolutionPath(e model.DatasetEvolution) string {
	store, set, _ := strings.Cut(e.Dataset, ".")
	p := "datastore:" + store + "/dataset:" + set
	if e.Path != "" {
		p += "/column:" + e.Path
	}
	return p
}

func consumersText(ws []string) string {
	switch len(ws) {
	case 0:
		return "consumers"
	case 1:
		return "its consumer " + ws[0]
	}
	return "its consumers " + strings.Join(ws, ", ")
}

// Passed reports whether the change may merge: no error of any kind.
func (r *Result) Passed() bool {
	errs, _, _ := lint.Count(r.Problems)
	return errs == 0
}

// hasLintError reports whether an error comes from lint (not from the
// check's own authorization and compatibility findings).
func hasLintError(ps []lint.Problem) bool {
	for _, p := range ps {
		if p.Severity == lint.Error && !strings.HasPrefix(p.Code, "auth-") && !strings.HasPrefix(p.Code, CodeCompatPref) {
			return true
		}
	}
	return false
}
