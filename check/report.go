package check

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"

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
