package check

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"unicode"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model/lint"
)

var (
	md   = generator.EscapeMarkdown
	code = generator.CodeSpan
)

func cellText(s string) string { return generator.TableCell(md(s)) }

// Markdown is the merge-request note: the verdict first, then the problems,
// the regions changed and who owns them, the dataset compatibility and the
// plan with its diffs folded away. Model text goes through the escapers.
func (r *Result) Markdown() string {
	var b strings.Builder
	errs, warns, _ := lint.Count(r.Problems)
	if r.Passed() {
		b.WriteString("## ✅ DataSurface check passed\n\n")
	} else {
		b.WriteString("## ❌ DataSurface check failed\n\n")
	}
	fmt.Fprintf(&b, "**%d error(s), %d warning(s).** Merge request source: %s.\n\n", errs, warns, sourceText(r.Source))

	b.WriteString("### Problems\n\n")
	if len(r.Problems) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| Severity | Code | Where | Message |\n|---|---|---|---|\n")
		for _, p := range r.Problems {
			where := "—"
			if p.Pos.File != "" {
				where = generator.TableCell(code(p.Pos.String()))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", p.Severity, generator.TableCell(code(p.Code)), where, cellText(p.Message))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Regions changed\n\n")
	if len(r.Regions) == 0 {
		b.WriteString("The model does not change.\n\n")
	} else {
		b.WriteString("| Region | Owner | May this source change it? | Changes |\n|---|---|---|---|\n")
		for _, c := range r.Regions {
			ok := "no"
			if c.Owner != "" && c.Owner == r.Source {
				ok = "yes"
			}
			owner := "(undeclared)"
			if c.Owner != "" {
				owner = generator.TableCell(code(c.Owner))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cellText(c.Region.String()), owner, ok, cellText(strings.Join(c.Changes, "; ")))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Compatibility\n\n")
	if len(r.Compatibility) == 0 {
		b.WriteString("No dataset changes.\n\n")
	} else {
		b.WriteString("| Dataset | Column | Verdict | Rule | Message |\n|---|---|---|---|---|\n")
		for _, e := range r.Compatibility {
			col := "—"
			if e.Path != "" {
				col = generator.TableCell(code(e.Path))
			}
			verdict := "allowed"
			switch {
			case !e.Allowed:
				verdict = "**refused**"
			case e.Warning:
				verdict = "allowed, warns consumers"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", generator.TableCell(code(e.Dataset)), col, verdict, generator.TableCell(code(e.Rule)), cellText(e.Message))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Plan\n\n")
	if r.Plan == nil {
		b.WriteString("No plan: the proposed model has errors, so it cannot be rendered.\n")
		return b.String()
	}
	// The summary is inside an HTML block, where markdown escapes would show
	// as written: it takes HTML escaping instead.
	fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n", html.EscapeString(r.Plan.SummaryLine()))
	b.WriteString(r.Plan.Markdown())
	b.WriteString("\n</details>\n")
	return b.String()
}

// humanArtifacts is how many changed artifacts the human output lists.
const humanArtifacts = 20

// Human is check's terminal output: the verdict, every problem at its
// file:line:column as validate prints them, the regions changed with their
// owners, the plan's summary and the artifacts it changes, and the counts.
// what names the proposed model in the counts line.
func (r *Result) Human(what string) string {
	var b strings.Builder
	errs, warns, infos := lint.Count(r.Problems)
	if r.Passed() {
		b.WriteString("check passed: the change may merge\n")
	} else {
		fmt.Fprintf(&b, "check failed: the change may not merge until the %d error(s) below are fixed\n", errs)
	}
	src := "unknown"
	if r.Source != "" {
		src = printable(r.Source)
	}
	fmt.Fprintf(&b, "merge request source: %s\n", src)

	if len(r.Problems) > 0 {
		b.WriteString("\n")
	}
	for _, p := range r.Problems {
		if p.Pos.File != "" {
			fmt.Fprintf(&b, "%s: ", p.Pos)
		}
		fmt.Fprintf(&b, "%s %s: %s", p.Severity, p.Code, printable(p.Message))
		if p.Path != "" {
			fmt.Fprintf(&b, " (%s)", printable(p.Path))
		}
		b.WriteString("\n")
	}

	b.WriteString("\n")
	if len(r.Regions) == 0 {
		b.WriteString("regions changed: none, the model does not change\n")
	} else {
		b.WriteString("regions changed:\n")
		for _, c := range r.Regions {
			owner, may := "nobody (undeclared)", "nobody may change it"
			if c.Owner != "" {
				owner, may = printable(c.Owner), "not this source"
				if c.Owner == r.Source {
					may = "this source may change it"
				}
			}
			fmt.Fprintf(&b, "  %s, owned by %s (%s): %s\n", c.Region, owner, may, printable(strings.Join(c.Changes, "; ")))
		}
	}

	switch {
	case r.Plan == nil && hasLintError(r.Problems):
		b.WriteString("plan: none, the proposed model has errors, so it cannot be rendered\n")
	case r.Plan == nil:
		b.WriteString("plan: none, it could not be made (see the problems above)\n")
	default:
		fmt.Fprintf(&b, "plan: %s\n", r.Plan.SummaryLine())
		for i, a := range r.Plan.Artifacts {
			if i == humanArtifacts {
				fmt.Fprintf(&b, "  ... and %d more (--format markdown or json has them all, with their diffs)\n", len(r.Plan.Artifacts)-i)
				break
			}
			fmt.Fprintf(&b, "  %-7s %s (+%d -%d)\n", a.Change, printable(a.Path), a.LinesAdded, a.LinesRemoved)
		}
	}
	fmt.Fprintf(&b, "%s: %d errors, %d warnings, %d infos\n", printable(what), errs, warns, infos)
	return b.String()
}

// printable keeps model text from driving the terminal: control
// characters (escape sequences, carriage returns) are shown quoted.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func sourceText(s string) string {
	if s == "" {
		return "unknown"
	}
	return code(s)
}

// JSON is the result for tools.
func (r *Result) JSON() ([]byte, error) {
	type region struct {
		Region  string   `json:"region"`
		Owner   string   `json:"owner"`
		Changes []string `json:"changes"`
	}
	type compat struct {
		Dataset   string   `json:"dataset"`
		Path      string   `json:"path,omitempty"`
		Allowed   bool     `json:"allowed"`
		Warning   bool     `json:"warning,omitempty"`
		Rule      string   `json:"rule"`
		Message   string   `json:"message"`
		Consumers []string `json:"consumers,omitempty"`
	}
	type problem struct {
		Code     string `json:"code"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
		File     string `json:"file,omitempty"`
		Line     int32  `json:"line,omitempty"`
		Path     string `json:"path,omitempty"`
	}
	out := struct {
		Passed        bool                  `json:"passed"`
		Source        string                `json:"source"`
		Problems      []problem             `json:"problems"`
		Regions       []region              `json:"regions"`
		Compatibility []compat              `json:"compatibility"`
		Plan          *generator.PlanResult `json:"plan"`
	}{Passed: r.Passed(), Source: r.Source, Problems: []problem{}, Regions: []region{}, Compatibility: []compat{}, Plan: r.Plan}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, problem{p.Code, string(p.Severity), p.Message, p.Pos.File, p.Pos.Line, p.Path})
	}
	for _, c := range r.Regions {
		out.Regions = append(out.Regions, region{c.Region.String(), c.Owner, c.Changes})
	}
	for _, e := range r.Compatibility {
		out.Compatibility = append(out.Compatibility, compat{e.Dataset, e.Path, e.Allowed, e.Warning, e.Rule, e.Message, e.Consumers})
	}
	return json.MarshalIndent(out, "", "  ")
}
