package generator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/datasurface/datasurface/model"
)

// PlanFormat names the JSON layout of a plan; it changes only incompatibly.
const PlanFormat = "datasurface-plan/1"

// MaxDiffLines is how many lines of one file's diff a plan keeps; the rest
// is cut with a note (a new DAG file is shown whole up to this size).
const MaxDiffLines = 400

// DiffContext is the number of unchanged lines around each change.
const DiffContext = 3

// Artifact changes.
const (
	ArtifactAdded   = "added"
	ArtifactChanged = "changed"
	ArtifactRemoved = "removed"
)

// Evolution scopes.
const (
	// ScopeTable is a change to an Iceberg table some platform ingests.
	ScopeTable = "table"
	// ScopeModel is a change to a dataset no platform ingests: only the
	// model changes, no table is touched.
	ScopeModel = "model-only"
)

// Dataset-level evolution rules (the column-level ones come from model.Evolution).
const (
	RuleAddDataset      = model.RuleAddDataset
	RuleDropDataset     = model.RuleDropDataset
	RuleKeyChange       = model.RuleKeyChange
	RulePartitionChange = model.RulePartitionChange
	RuleDeprecate       = model.RuleDeprecate
)

// PlanResult is what a model change would deploy: the artifacts it adds,
// changes and removes, and the schema evolutions it implies.
type PlanResult struct {
	Format     string            `json:"format"`
	Base       PlanSide          `json:"base"`
	Head       PlanSide          `json:"head"`
	Summary    PlanSummary       `json:"summary"`
	Manifest   ManifestChange    `json:"manifest"`
	Artifacts  []ArtifactChange  `json:"artifacts"`
	Evolutions []SchemaEvolution `json:"evolutions"`
	// Warnings name what the head model asks for that its tree does not deliver.
	Warnings []string `json:"warnings,omitempty"`
}

// PlanSide says where one side's model was read from.
type PlanSide struct {
	Source string `json:"source"`
	Commit string `json:"commit,omitempty"`
}

// PlanSummary counts a plan's changes.
type PlanSummary struct {
	Added      int `json:"added"`
	Changed    int `json:"changed"`
	Removed    int `json:"removed"`
	Unchanged  int `json:"unchanged"`
	Evolutions int `json:"evolutions"`
	Refused    int `json:"refused"`
	// ModelOnly counts the evolutions of datasets no platform ingests.
	ModelOnly int `json:"model_only"`
}

// ManifestChange says whether MANIFEST.json's model commit changes; no other
// generated file records the commit, and the artifact list leaves the
// manifest out, so that only what the model change does shows.
type ManifestChange struct {
	BaseCommit    string `json:"base_commit,omitempty"`
	HeadCommit    string `json:"head_commit,omitempty"`
	CommitChanged bool   `json:"commit_changed"`
}

// ArtifactChange is one generated file that a change adds, changes or removes.
type ArtifactChange struct {
	Path   string `json:"path"`
	Change string `json:"change"` // added, changed or removed
	// Diff is a unified diff from a/Path to b/Path (from or to nothing for
	// an added or removed file), cut after MaxDiffLines lines.
	Diff         string `json:"diff"`
	Truncated    bool   `json:"truncated,omitempty"`
	DiffLines    int    `json:"diff_lines"` // lines of the whole diff, before any cut
	LinesAdded   int    `json:"lines_added"`
	LinesRemoved int    `json:"lines_removed"`
}

// SchemaEvolution is one change to a dataset's schema, judged for consumers.
type SchemaEvolution struct {
	Dataset string `json:"dataset"` // datastore.dataset
	// Path is the column (and nested field) changed; empty for a change of
	// the whole dataset (added, dropped, key or partitioning).
	Path    string `json:"path"`
	Allowed bool   `json:"allowed"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
	// Scope is table when some platform ingests the dataset (on either
	// side), model-only otherwise.
	Scope string `json:"scope"`
	// Platforms are the platforms that ingest the dataset, sorted.
	Platforms []string `json:"platforms,omitempty"`
}

// Plan renders base and head with the same options and compares them.
func Plan(base, head *model.Model, opts Options) (*PlanResult, error) {
	return PlanContext(context.Background(), base, head, opts)
}

// PlanContext is Plan with a context that can cancel the rendering.
func PlanContext(ctx context.Context, base, head *model.Model, opts Options) (*PlanResult, error) {
	if base == nil || head == nil {
		return nil, errors.New("plan needs a base and a head model")
	}
	headGraph, err := model.BuildGraph(head)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	baseGraph, err := model.BuildGraph(base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	if opts.Scope != nil {
		scope := *opts.Scope
		scope.sameStreams = sameStreams(baseGraph, headGraph)
		opts.Scope = &scope
	}
	headTree, err := render(ctx, head, headGraph, opts)
	if err != nil {
		return nil, fmt.Errorf("render head: %w", err)
	}
	baseTree, err := render(ctx, base, baseGraph, opts)
	if err != nil {
		return nil, fmt.Errorf("render base: %w", err)
	}
	// Only MANIFEST.json records the model commit, so comparing the trees
	// shows what the model change does, not that a commit happened.
	cmpTree := baseTree
	res := &PlanResult{
		Warnings:   headTree.Warnings,
		Format:     PlanFormat,
		Base:       PlanSide{Source: base.Source, Commit: base.Commit},
		Head:       PlanSide{Source: head.Source, Commit: head.Commit},
		Manifest:   ManifestChange{BaseCommit: base.Commit, HeadCommit: head.Commit, CommitChanged: base.Commit != head.Commit},
		Artifacts:  []ArtifactChange{},
		Evolutions: []SchemaEvolution{},
	}
	paths := map[string]bool{}
	for p := range headTree.Files {
		paths[p] = true
	}
	for p := range baseTree.Files {
		paths[p] = true
	}
	delete(paths, ManifestName)
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		old, inBase := cmpTree.Files[p]
		cur, inHead := headTree.Files[p]
		var a ArtifactChange
		switch {
		case !inBase:
			a = fileDiff(p, ArtifactAdded, nil, cur)
			res.Summary.Added++
		case !inHead:
			a = fileDiff(p, ArtifactRemoved, baseTree.Files[p], nil)
			res.Summary.Removed++
		case bytes.Equal(old, cur):
			res.Summary.Unchanged++
			continue
		default:
			a = fileDiff(p, ArtifactChanged, old, cur)
			res.Summary.Changed++
		}
		res.Artifacts = append(res.Artifacts, a)
	}
	evs, err := schemaEvolutions(base, head, baseGraph, headGraph)
	if err != nil {
		return nil, err
	}
	res.Evolutions = evs
	for _, e := range evs {
		res.Summary.Evolutions++
		if !e.Allowed {
			res.Summary.Refused++
		}
		if e.Scope == ScopeModel {
			res.Summary.ModelOnly++
		}
	}
	return res, nil
}

// fileDiff builds the change of one file with its unified diff.
func fileDiff(path, change string, old, cur []byte) ArtifactChange {
	a := ArtifactChange{Path: path, Change: change}
	if isBinary(old) || isBinary(cur) {
		a.Diff = fmt.Sprintf("Binary files a/%s and b/%s differ\n", path, path)
		a.DiffLines = 1
		return a
	}
	from, to := diffLines(old), diffLines(cur)
	if len(from) == 0 && len(to) == 0 {
		return a // an empty file added or removed: nothing to show
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: from, B: to, FromFile: "a/" + path, ToFile: "b/" + path, Context: DiffContext,
	})
	if err != nil { // writes to memory do not fail
		d = err.Error() + "\n"
	}
	lines := strings.SplitAfter(d, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	a.DiffLines = len(lines)
	for i, l := range lines {
		if i < 2 { // the ---/+++ header
			continue
		}
		switch {
		case strings.HasPrefix(l, "+"):
			a.LinesAdded++
		case strings.HasPrefix(l, "-"):
			a.LinesRemoved++
		}
	}
	if len(lines) > MaxDiffLines {
		lines = lines[:MaxDiffLines]
		a.Truncated = true
	}
	a.Diff = strings.Join(lines, "")
	return a
}

// diffLines splits content into lines that keep their newline. A last line
// without one carries git's marker, so that adding or removing the final
// newline shows as a change.
func diffLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		return lines[:len(lines)-1]
	}
	lines[len(lines)-1] += "\n\\ No newline at end of file\n"
	return lines
}

func isBinary(b []byte) bool {
	return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b)
}

// ingesting adds to into, for every dataset a platform of the graph
// ingests, the platform's name.
func ingesting(g *model.Graph, into map[string]map[string]bool) {
	for _, pg := range g.Platforms {
		for _, s := range pg.Streams {
			for _, st := range s.Tables {
				k := s.Datastore.Name + "." + st.Dataset.Name
				if into[k] == nil {
					into[k] = map[string]bool{}
				}
				into[k][pg.Platform.Name] = true
			}
		}
	}
}

// sameStreams names the platforms that have the same streams on both sides.
func sameStreams(base, head *model.Graph) map[string]bool {
	names := func(g *model.Graph) map[string][]string {
		out := map[string][]string{}
		for _, pg := range g.Platforms {
			for _, s := range pg.Streams {
				out[pg.Platform.Name] = append(out[pg.Platform.Name], s.Name)
			}
		}
		return out
	}
	b, h := names(base), names(head)
	out := map[string]bool{}
	for p, hs := range h {
		if bs, ok := b[p]; ok && slices.Equal(bs, hs) {
			out[p] = true
		}
	}
	return out
}

func schemaEvolutions(base, head *model.Model, baseGraph, headGraph *model.Graph) ([]SchemaEvolution, error) {
	platforms := map[string]map[string]bool{}
	ingesting(baseGraph, platforms)
	ingesting(headGraph, platforms)
	out := []SchemaEvolution{}
	for _, e := range model.Compatibility(base, head) {
		var ps []string
		for p := range platforms[e.Dataset] {
			ps = append(ps, p)
		}
		sort.Strings(ps)
		scope := ScopeModel
		if len(ps) > 0 {
			scope = ScopeTable
		}
		out = append(out, SchemaEvolution{Dataset: e.Dataset, Path: e.Path, Allowed: e.Allowed, Rule: e.Rule, Message: e.Message, Scope: scope, Platforms: ps})
	}
	return out, nil
}

// JSON renders the plan as indented JSON ending with a newline.
func (r *PlanResult) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// SummaryLine is the plan's one-line summary.
func (r *PlanResult) SummaryLine() string {
	s := r.Summary
	return fmt.Sprintf("%d added, %d changed, %d removed artifacts; %d schema evolutions (%d refused)", s.Added, s.Changed, s.Removed, s.Evolutions, s.Refused)
}

// Markdown renders the plan for a merge-request note: the summary, a table
// of artifacts, a table of schema evolutions and every diff in a
// collapsible section. Model text is escaped; no diff can leave its fence.
func (r *PlanResult) Markdown() string {
	var b strings.Builder
	b.WriteString("### DataSurface plan\n\n")
	fmt.Fprintf(&b, "**%s**\n\n", r.SummaryLine())
	fmt.Fprintf(&b, "Base: %s; head: %s.\n\n", sideMarkdown(r.Base), sideMarkdown(r.Head))
	switch m := r.Manifest; {
	case m.CommitChanged:
		fmt.Fprintf(&b, "The model commit in %s changes from %s to %s.\n\n",
			codeSpan(ManifestName), commitMarkdown(m.BaseCommit), commitMarkdown(m.HeadCommit))
	default:
		fmt.Fprintf(&b, "The model commit in %s does not change.\n\n", codeSpan(ManifestName))
	}

	if len(r.Warnings) > 0 {
		b.WriteString("#### Warnings\n\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", escapeMarkdown(w))
		}
		b.WriteString("\n")
	}

	b.WriteString("#### Artifacts\n\n")
	if len(r.Artifacts) == 0 {
		fmt.Fprintf(&b, "No artifact changes (%d unchanged).\n\n", r.Summary.Unchanged)
	} else {
		b.WriteString("| Artifact | Change | Lines |\n|---|---|---|\n")
		for _, a := range r.Artifacts {
			fmt.Fprintf(&b, "| %s | %s | +%d −%d |\n", codeCell(a.Path), a.Change, a.LinesAdded, a.LinesRemoved)
		}
		fmt.Fprintf(&b, "\n%d artifacts unchanged.\n\n", r.Summary.Unchanged)
	}

	b.WriteString("#### Schema evolutions\n\n")
	if len(r.Evolutions) == 0 {
		b.WriteString("No schema changes.\n\n")
	} else {
		b.WriteString("| Dataset | Column | Scope | Verdict | Rule | Message |\n|---|---|---|---|---|---|\n")
		for _, e := range r.Evolutions {
			path := "—"
			if e.Path != "" {
				path = codeCell(e.Path)
			}
			scope := "model only"
			if e.Scope == ScopeTable {
				scope = "table (" + escapeMarkdown(strings.Join(e.Platforms, ", ")) + ")"
			}
			verdict := "allowed"
			if !e.Allowed {
				verdict = "**refused**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", codeCell(e.Dataset), path, cell(scope), verdict, codeCell(e.Rule), cell(escapeMarkdown(e.Message)))
		}
		b.WriteString("\n")
		if r.Summary.ModelOnly > 0 {
			fmt.Fprintf(&b, "%d of them are model-only: no platform ingests those datasets, so no table changes.\n\n", r.Summary.ModelOnly)
		}
	}

	if len(r.Artifacts) > 0 {
		b.WriteString("#### Diffs\n\n")
	}
	for _, a := range r.Artifacts {
		fmt.Fprintf(&b, "<details><summary><code>%s</code> (%s)</summary>\n\n", html.EscapeString(a.Path), a.Change)
		if a.Diff == "" {
			b.WriteString("(empty file)\n\n")
		} else {
			fence := strings.Repeat("`", max(3, longestRun(a.Diff, '`')+1))
			fmt.Fprintf(&b, "%sdiff\n%s", fence, a.Diff)
			if !strings.HasSuffix(a.Diff, "\n") {
				b.WriteString("\n")
			}
			b.WriteString(fence + "\n\n")
			if a.Truncated {
				fmt.Fprintf(&b, "_Diff cut: %d of %d lines shown._\n\n", MaxDiffLines, a.DiffLines)
			}
		}
		b.WriteString("</details>\n\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func sideMarkdown(s PlanSide) string {
	out := codeSpan(s.Source)
	if s.Commit != "" {
		out += " at " + commitMarkdown(s.Commit)
	}
	return out
}

func commitMarkdown(c string) string {
	if c == "" {
		return "(no commit: a folder)"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return codeSpan(c)
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// codeSpan renders s as inline code, with a backtick delimiter longer than
// any run inside it. Line breaks become spaces.
func codeSpan(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// cell makes inline markdown safe inside a table cell: a pipe, even in a
// code span, would end the cell. The text must come from escapeMarkdown or
// codeCell, so that no backslash can pair with the pipe's escape.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// codeCell is s as inline code in a table cell, or escaped text when s has a
// pipe (a backslash just before it would turn the pipe's escape around).
func codeCell(s string) string {
	if strings.Contains(s, "|") {
		return cell(escapeMarkdown(s))
	}
	return codeSpan(s)
}

// markdownEscaper backslash-escapes the punctuation that inline markdown or
// GitLab references (@user, #issue, !mr, ~label, %milestone, :emoji:) give
// a meaning, and turns HTML into text.
var markdownEscaper = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_[]{}()#+!~@%$:^" {
		pairs = append(pairs, string(c), `\`+string(c))
	}
	pairs = append(pairs, "<", "&lt;", ">", "&gt;", "&", "&amp;", "\r\n", " ", "\n", " ", "\r", " ")
	return strings.NewReplacer(pairs...)
}()

// escapeMarkdown makes text read literally in markdown, on one line.
func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// EscapeMarkdown, CodeSpan and TableCell are the plan's markdown escapers,
// for reports that embed the plan: model text reaches markdown only through
// them.
func EscapeMarkdown(s string) string { return escapeMarkdown(s) }

// CodeSpan is s as inline code whatever backticks it holds.
func CodeSpan(s string) string { return codeSpan(s) }

// TableCell makes escaped inline markdown safe inside a table cell.
func TableCell(s string) string { return cell(s) }
