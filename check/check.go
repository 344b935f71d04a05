// Package check is the merge-request check: one verdict on a model change
// from the head's lint, the authorization of every region it changes
// against the merge request's source, the compatibility of every dataset
// change for its consumers, and the plan of what the merge would deploy.
package check

import (
	"context"
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
	// A producer may deprecate a dataset its consumers still sink: that is
	// how they learn to move. Their unacknowledged sinks, an error in a
	// region the producer cannot edit, become warnings for this change.
	for _, e := range r.Compatibility {
		if e.Rule != model.RuleDeprecate {
			continue
		}
		for i := range r.Problems {
			p := &r.Problems[i]
			if p.Code == "sink-deprecated" && p.Severity == lint.Error && strings.HasPrefix(p.Message, e.Dataset+" is deprecated") {
				p.Severity = lint.Warning
				p.Message += " (deprecated by this merge request: the workspace's owner should acknowledge or move; the dataset cannot be removed while it is sunk)"
			}
		}
	}
	for _, e := range r.Compatibility {
		where := e.Dataset
		if e.Path != "" {
			where += " column " + e.Path
		}
		switch {
		case !e.Allowed:
			r.Problems = append(r.Problems, lint.Problem{Code: CodeCompatPref + e.Rule, Severity: lint.Error, Pos: e.Pos, Path: where,
				Message: fmt.Sprintf("%s: %s (rule %s); consumers could no longer read it", where, e.Message, e.Rule)})
		case e.Warning:
			r.Problems = append(r.Problems, lint.Problem{Code: CodeCompatPref + e.Rule, Severity: lint.Warning, Pos: e.Pos, Path: where, Message: e.Message})
		}
	}
	lint.Sort(r.Problems)

	if errs, _, _ := lint.Count(r.Problems); errs > 0 && hasLintError(r.Problems) {
		return r, nil // only a model without lint errors renders
	}
	opts := in.Generator
	opts.Scope = generator.ChangeScope(in.Base, in.Head)
	plan, err := generator.PlanContext(ctx, in.Base, in.Head, opts)
	if err != nil {
		// The base is the target branch; if it does not render, say so
		// rather than fail the whole check.
		r.Problems = append(r.Problems, lint.Problem{Code: CodePlan, Severity: lint.Warning,
			Message: "the plan could not be made: " + err.Error()})
		return r, nil
	}
	r.Plan = plan
	return r, nil
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
