package mrnote

import (
	"fmt"
	"strings"
	"testing"
)

const artifacts = "https://gitlab.example.com/acme/model/-/jobs/99/artifacts/browse"

// checkBalanced fails when s leaves a fenced code block or a <details>
// element open.
func checkBalanced(t *testing.T, s string) {
	t.Helper()
	var sc mdScanner
	for _, l := range strings.SplitAfter(s, "\n") {
		sc.line(l)
	}
	if sc.fenceChar != 0 || sc.details != 0 {
		t.Fatalf("unbalanced output (open fence %q, %d open <details>):\n%s", sc.fenceChar, sc.details, s)
	}
}

func TestFit(t *testing.T) {
	n := func(body string) string { return truncationNotice(len(body), artifacts) }

	// Every body is padded past the notice's length so that the limits
	// below really force a cut.
	pad := "\n" + strings.Repeat("padding line\n", 40)
	plain := "line1\nline2\nline3\n" + pad
	fence := "intro\n```go\ncode1\ncode2\n```\nafter\n" + pad
	details := "<details><summary>S</summary>\n\nbody1\nbody2\n</details>\n\ntail\n" + pad
	nested := "<details>\n<DETAILS open>\n````\nx\n```\ny\n````\ntext inside the inner element\n</details>\n</details>\nend\n" + pad
	tilde := "~~~\n```\nmore\n~~~\nend\n" + pad
	tagInFence := "```\n<details>\nz\n```\nend\n" + pad
	list := "- item\n  ```sh\n  code\n  ```\n- next\n" + pad
	inline := "```inline``` is not a fence\nline2\nline3\n" + pad
	noNL := "a\n" + strings.Repeat("b", 600)

	tests := []struct {
		name  string
		body  string
		limit int
		url   string
		want  string
	}{
		{"fits", plain, len(plain) + 1, artifacts, plain},
		{"fits exactly", plain, len(plain), artifacts, plain},
		{"cut at line boundary", plain, 12 + len(n(plain)), artifacts, "line1\nline2\n" + n(plain)},
		{"one byte less drops a line", plain, 12 + len(n(plain)) - 1, artifacts, "line1\n" + n(plain)},
		{"open fence is closed", fence,
			len("intro\n```go\ncode1\n") + len("```\n") + len(n(fence)), artifacts,
			"intro\n```go\ncode1\n```\n" + n(fence)},
		{"closing the fence costs room", fence,
			len("intro\n```go\ncode1\n") + len("```\n") + len(n(fence)) - 1, artifacts,
			"intro\n```go\n```\n" + n(fence)},
		{"open details is closed", details,
			len("<details><summary>S</summary>\n\nbody1\n") + len("\n</details>\n") + len(n(details)), artifacts,
			"<details><summary>S</summary>\n\nbody1\n\n</details>\n" + n(details)},
		{"nested details and a four-backtick fence", nested,
			len("<details>\n<DETAILS open>\n````\nx\n```\n") + len("````\n") + 2*len("\n</details>\n") + len(n(nested)), artifacts,
			"<details>\n<DETAILS open>\n````\nx\n```\n````\n\n</details>\n\n</details>\n" + n(nested)},
		{"tilde fence is not closed by backticks", tilde,
			len("~~~\n```\nmore\n") + len("~~~\n") + len(n(tilde)), artifacts,
			"~~~\n```\nmore\n~~~\n" + n(tilde)},
		{"details tag inside a fence does not count", tagInFence,
			len("```\n<details>\nz\n") + len("```\n") + len(n(tagInFence)), artifacts,
			"```\n<details>\nz\n```\n" + n(tagInFence)},
		{"indented fence in a list keeps its indent", list,
			len("- item\n  ```sh\n  code\n") + len("  ```\n") + len(n(list)), artifacts,
			"- item\n  ```sh\n  code\n  ```\n" + n(list)},
		{"inline code is not a fence", inline,
			len("```inline``` is not a fence\nline2\n") + len(n(inline)), artifacts,
			"```inline``` is not a fence\nline2\n" + n(inline)},
		{"last line without newline is never split", noNL, len(noNL) - 1, artifacts,
			"a\n" + n(noNL)},
		{"no artifacts URL", plain, 6 + len(truncationNotice(len(plain), "")), "",
			"line1\n" + truncationNotice(len(plain), "")},
		{"only the notice fits", plain, len(n(plain)), artifacts, n(plain)},
		{"limit below the notice", plain, 5, artifacts, n(plain)[:5]},
		{"zero limit", plain, 0, artifacts, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Fit(tc.body, tc.limit, tc.url)
			if got != tc.want {
				t.Fatalf("Fit(limit=%d)\n got: %q\nwant: %q", tc.limit, got, tc.want)
			}
			if len(got) > tc.limit {
				t.Fatalf("len = %d > limit %d", len(got), tc.limit)
			}
		})
	}
}

func TestFitNoticeContent(t *testing.T) {
	body := strings.Repeat("x\n", 1000)
	got := Fit(body, 500, artifacts)
	if !strings.Contains(got, "Report truncated") || !strings.Contains(got, artifacts) || !strings.Contains(got, "2000 bytes") {
		t.Fatalf("notice = %q", got)
	}
	got = Fit(body, 500, "")
	if !strings.Contains(got, "job's artifacts") {
		t.Fatalf("notice without URL = %q", got)
	}
}

// TestFitInvariants cuts a structured report at every limit from "nothing
// but the notice" to "everything" and checks what must always hold.
func TestFitInvariants(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Report\n\n")
	for i := range 12 {
		fmt.Fprintf(&b, "<details><summary>Table %d — ✓</summary>\n\n", i)
		if i%3 == 0 {
			b.WriteString("<details>\n<summary>inner</summary>\n\n")
		}
		fence := "```"
		if i%2 == 1 {
			fence = "~~~~"
		}
		b.WriteString(fence + "diff\n")
		for j := range 4 {
			fmt.Fprintf(&b, "+ row %d.%d é\n", i, j)
		}
		b.WriteString(fence + "\n")
		if i%3 == 0 {
			b.WriteString("</details>\n")
		}
		b.WriteString("\n</details>\n\n")
	}
	body := b.String()
	notice := truncationNotice(len(body), artifacts)

	for limit := len(notice); limit <= len(body)+1; limit++ {
		got := Fit(body, limit, artifacts)
		if len(got) > limit {
			t.Fatalf("limit %d: len %d", limit, len(got))
		}
		if limit >= len(body) {
			if got != body {
				t.Fatalf("limit %d: body changed although it fits", limit)
			}
			continue
		}
		if !strings.HasSuffix(got, notice) {
			t.Fatalf("limit %d: no notice:\n%s", limit, got)
		}
		checkBalanced(t, got)
		// What precedes the notice is a whole-line prefix of body followed
		// by exactly the closers that prefix needs.
		kept := strings.TrimSuffix(got, notice)
		if !isPrefixPlusClosers(body, kept) {
			t.Fatalf("limit %d: %q is not a line-aligned prefix plus its closers", limit, kept)
		}
	}
}

func isPrefixPlusClosers(body, kept string) bool {
	var sc mdScanner
	for k := 0; ; {
		if body[:k]+sc.closer() == kept {
			return true
		}
		e := strings.IndexByte(body[k:], '\n')
		if e < 0 || k > len(kept) {
			return false
		}
		sc.line(body[k : k+e+1])
		k += e + 1
	}
}
