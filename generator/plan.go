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
	"strconv"
	"strings"
	"unicode/utf8"

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

// Plan sides, as SideError names them.
const (
	SideBase = "base"
	SideHead = "head"
)

// SideError is a plan that failed because one side's model could not be
// turned into its deploy tree: its platform graph could not be built, or a
// file could not be rendered. The merge-request check tells them apart: a
// head that does not render must not merge, a base that does not is the
// target branch's own problem.
type SideError struct {
	Side   string // SideBase or SideHead
	Render bool   // the graph was built, a file failed to render
	Err    error
}

func (e *SideError) Error() string {
	if e.Render {
		return "render " + e.Side + ": " + e.Err.Error()
	}
	return e.Side + ": " + e.Err.Error()
}

func (e *SideError) Unwrap() error { return e.Err }

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
		return nil, &SideError{Side: SideHead, Err: err}
	}
	baseGraph, err := model.BuildGraph(base)
	if err != nil {
		// Whether the head renders is what a merge-request check must know.
		if _, herr := render(ctx, head, headGraph, opts); herr != nil && ctx.Err() == nil {
			return nil, &SideError{Side: SideHead, Render: true, Err: herr}
		}
		return nil, &SideError{Side: SideBase, Err: err}
	}
	if opts.Scope != nil {
		scope := *opts.Scope
		scope.sameStreams = sameStreams(baseGraph, headGraph)
		opts.Scope = &scope
	}
	headTree, err := render(ctx, head, headGraph, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &SideError{Side: SideHead, Render: true, Err: err}
	}
	baseTree, err := render(ctx, base, baseGraph, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &SideError{Side: SideBase, Render: true, Err: err}
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
	d := unifiedDiff(from, to, "a/"+path, "b/"+path, DiffContext)
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

// unifiedDiff is the unified diff from a to b (lines that keep their
// newline) with n lines of context, in the layout of diff -u and difflib:
// ---/+++ headers, then hunks of @@ -start,len +start,len @@ whose
// replaced lines are all -, then all +. Empty when a and b are equal.
//
// Its time grows with the lines, not with their product: a change that
// touches every column of a 20,000-column dataset changes 20,000 lines of
// its job spec, and a quadratic matcher (difflib's) takes minutes on that.
func unifiedDiff(a, b []string, fromFile, toFile string, n int) string {
	ops := opcodes(a, b)
	groups := groupOpcodes(ops, n)
	if len(groups) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("--- " + fromFile + "\n+++ " + toFile + "\n")
	for _, g := range groups {
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", unifiedRange(first.i1, last.i2), unifiedRange(first.j1, last.j2))
		for _, c := range g {
			if c.tag == 'e' {
				for _, l := range a[c.i1:c.i2] {
					sb.WriteString(" " + l)
				}
				continue
			}
			if c.tag == 'r' || c.tag == 'd' {
				for _, l := range a[c.i1:c.i2] {
					sb.WriteString("-" + l)
				}
			}
			if c.tag == 'r' || c.tag == 'i' {
				for _, l := range b[c.j1:c.j2] {
					sb.WriteString("+" + l)
				}
			}
		}
	}
	return sb.String()
}

// unifiedRange is a hunk's line range: start,length (1-based; a hunk
// that is empty on this side names the line before it).
func unifiedRange(start, stop int) string {
	begin, length := start+1, stop-start
	switch length {
	case 1:
		return strconv.Itoa(begin)
	case 0:
		begin--
	}
	return strconv.Itoa(begin) + "," + strconv.Itoa(length)
}

// opcode says how a[i1:i2] becomes b[j1:j2]: equal, replace, delete or insert.
type opcode struct {
	tag            byte // 'e', 'r', 'd', 'i'
	i1, i2, j1, j2 int
}

// groupOpcodes cuts opcodes into hunks with n lines of context (difflib's
// GetGroupedOpCodes); none when nothing changes.
func groupOpcodes(codes []opcode, n int) [][]opcode {
	if len(codes) == 0 || len(codes) == 1 && codes[0].tag == 'e' {
		return nil
	}
	if c := &codes[0]; c.tag == 'e' {
		c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
	}
	if c := &codes[len(codes)-1]; c.tag == 'e' {
		c.i2, c.j2 = min(c.i2, c.i1+n), min(c.j2, c.j1+n)
	}
	var groups [][]opcode
	var group []opcode
	for _, c := range codes {
		if c.tag == 'e' && c.i2-c.i1 > 2*n {
			group = append(group, opcode{'e', c.i1, min(c.i2, c.i1+n), c.j1, min(c.j2, c.j1+n)})
			groups = append(groups, group)
			group = nil
			c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
		}
		group = append(group, c)
	}
	if len(group) > 0 && !(len(group) == 1 && group[0].tag == 'e') {
		groups = append(groups, group)
	}
	return groups
}

// opcodes matches the lines of a and b and describes the difference.
func opcodes(a, b []string) []opcode {
	ids := make(map[string]int32, len(a)+len(b))
	intern := func(ls []string) []int32 {
		out := make([]int32, len(ls))
		for i, l := range ls {
			id, ok := ids[l]
			if !ok {
				id = int32(len(ids))
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	m := &matcher{a: intern(a), b: intern(b)}
	m.match(0, len(a), 0, len(b), 0)
	var out []opcode
	i, j := 0, 0
	emit := func(ti, tj int) { // the change before a match at (ti, tj)
		switch {
		case ti > i && tj > j:
			out = append(out, opcode{'r', i, ti, j, tj})
		case ti > i:
			out = append(out, opcode{'d', i, ti, j, tj})
		case tj > j:
			out = append(out, opcode{'i', i, ti, j, tj})
		}
	}
	for _, p := range m.pairs {
		if p[0] != i || p[1] != j {
			emit(p[0], p[1])
		}
		if k := len(out) - 1; k >= 0 && out[k].tag == 'e' && out[k].i2 == p[0] && out[k].j2 == p[1] {
			out[k].i2++
			out[k].j2++
		} else {
			out = append(out, opcode{'e', p[0], p[0] + 1, p[1], p[1] + 1})
		}
		i, j = p[0]+1, p[1]+1
	}
	emit(len(a), len(b))
	return out
}

// matcher finds matching lines, in increasing order, in time about linear
// in the lines: common prefixes and suffixes first, then lines that occur
// once on each side as anchors (their longest increasing run, the patience
// diff), then the same between anchors; a stretch with no such line is
// matched exactly when it is small and left as a replacement otherwise.
type matcher struct {
	a, b  []int32
	pairs [][2]int
}

// Bounds of the fallbacks: the cells of an exact match of a stretch
// without anchors, and how deep anchoring recurses.
const (
	maxExactCells = 1 << 20
	maxAnchorRuns = 32
)

func (m *matcher) match(alo, ahi, blo, bhi, depth int) {
	for alo < ahi && blo < bhi && m.a[alo] == m.b[blo] {
		m.pairs = append(m.pairs, [2]int{alo, blo})
		alo, blo = alo+1, blo+1
	}
	var tail [][2]int
	for alo < ahi && blo < bhi && m.a[ahi-1] == m.b[bhi-1] {
		ahi, bhi = ahi-1, bhi-1
		tail = append(tail, [2]int{ahi, bhi})
	}
	defer func() {
		for k := len(tail) - 1; k >= 0; k-- {
			m.pairs = append(m.pairs, tail[k])
		}
	}()
	if alo == ahi || blo == bhi {
		return
	}
	if depth < maxAnchorRuns {
		if anchors := m.anchors(alo, ahi, blo, bhi); len(anchors) > 0 {
			i, j := alo, blo
			for _, p := range anchors {
				m.match(i, p[0], j, p[1], depth+1)
				m.pairs = append(m.pairs, p)
				i, j = p[0]+1, p[1]+1
			}
			m.match(i, ahi, j, bhi, depth+1)
			return
		}
	}
	if (ahi-alo)*(bhi-blo) <= maxExactCells {
		m.exact(alo, ahi, blo, bhi)
	}
}

// anchors are the lines that occur exactly once in a[alo:ahi] and once in
// b[blo:bhi], the longest run of them in the same order on both sides.
func (m *matcher) anchors(alo, ahi, blo, bhi int) [][2]int {
	type seen struct{ na, nb, ia, ib int }
	count := make(map[int32]*seen, ahi-alo)
	for i := alo; i < ahi; i++ {
		s := count[m.a[i]]
		if s == nil {
			s = &seen{}
			count[m.a[i]] = s
		}
		s.na++
		s.ia = i
	}
	for j := blo; j < bhi; j++ {
		if s := count[m.b[j]]; s != nil {
			s.nb++
			s.ib = j
		}
	}
	// Unique pairs in a's order; their longest increasing run in b.
	var cands [][2]int
	for i := alo; i < ahi; i++ {
		if s := count[m.a[i]]; s.na == 1 && s.nb == 1 {
			cands = append(cands, [2]int{i, s.ib})
		}
	}
	if len(cands) == 0 {
		return nil
	}
	tails := []int{} // tails[k]: index in cands of the smallest b ending a run of k+1
	prev := make([]int, len(cands))
	for k, c := range cands {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if cands[tails[mid]][1] < c[1] {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		prev[k] = -1
		if lo > 0 {
			prev[k] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, k)
		} else {
			tails[lo] = k
		}
	}
	run := make([][2]int, len(tails))
	for k, at := len(tails)-1, tails[len(tails)-1]; k >= 0; k, at = k-1, prev[at] {
		run[k] = cands[at]
	}
	return run
}

// exact appends a longest common subsequence of a small stretch (dynamic
// programming over its cells).
func (m *matcher) exact(alo, ahi, blo, bhi int) {
	na, nb := ahi-alo, bhi-blo
	// lcs[i*(nb+1)+j]: the longest common subsequence of a[alo+i:] and b[blo+j:].
	lcs := make([]int32, (na+1)*(nb+1))
	w := nb + 1
	for i := na - 1; i >= 0; i-- {
		for j := nb - 1; j >= 0; j-- {
			if m.a[alo+i] == m.b[blo+j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	for i, j := 0, 0; i < na && j < nb; {
		switch {
		case m.a[alo+i] == m.b[blo+j]:
			m.pairs = append(m.pairs, [2]int{alo + i, blo + j})
			i, j = i+1, j+1
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			i++
		default:
			j++
		}
	}
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
	s = lineBreaks.Replace(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

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
