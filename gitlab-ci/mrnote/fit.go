package mrnote

import (
	"fmt"
	"strings"
)

// NoteBodyLimit is the largest note body Upsert will send, in bytes.
//
// GitLab validates a note's text with a Rails length validation of
// 1,000,000 characters (Gitlab::Database::MAX_TEXT_SIZE_LIMIT, introduced
// in GitLab 12.2 by the commit "Limit the size of issuable description and
// comments", gitlab-org/gitlab@58c5e765). The API answers a longer note with
// 400 Bad Request and the message
// `Note {:note=>["is too long (maximum is 1000000 characters)"]}` (reported
// verbatim in NARKOZ/gitlab#610 and renovatebot/renovate#7775), and the
// "GitLab application limits" page documents the size of comments as
// "~1 million characters / ~1 MB".
//
// Ruby counts characters (Unicode code points), not bytes. Fit and Upsert
// count bytes instead: every code point is at least one byte in UTF-8, so a
// body of at most 1,000,000 bytes is always at most 1,000,000 characters.
// That is conservative — a report heavy in multi-byte characters is cut a
// little earlier than strictly needed — and it never depends on how GitLab
// counts.
const NoteBodyLimit = 1_000_000

// Fit returns body unchanged when len(body) <= limit (bytes). Otherwise it
// keeps the longest prefix of whole lines that still leaves room to
//
//   - close a fenced code block (``` or ~~~) left open by the cut, with a
//     fence of the same character and length,
//   - close every <details> element left open by the cut with </details>,
//   - append a notice saying the report was truncated and pointing to
//     artifactsURL (the full report), or to the job artifacts in general when
//     artifactsURL is empty.
//
// The result never exceeds limit bytes. When limit is too small for even the
// notice, the notice itself is cut (on a UTF-8 boundary) — a degenerate case
// that only tiny limits reach; with NoteBodyLimit it cannot happen.
//
// Lengths are bytes, not characters; see NoteBodyLimit for why that is the
// conservative choice for GitLab.
func Fit(body string, limit int, artifactsURL string) string {
	if len(body) <= limit {
		return body
	}
	if limit <= 0 {
		return ""
	}
	notice := truncationNotice(len(body), artifactsURL)

	var sc mdScanner
	best := -1 // byte offset of the best cut (prefix body[:best])
	bestCloser := ""
	consider := func(cut int) {
		closer := sc.closer()
		if cut+len(closer)+len(notice) <= limit {
			best, bestCloser = cut, closer
		}
	}

	consider(0)
	for pos := 0; pos < len(body); {
		end := strings.IndexByte(body[pos:], '\n')
		if end < 0 {
			// The last line has no newline; the whole body does not fit
			// (checked above), so a cut can never include it.
			break
		}
		end += pos + 1
		if end > limit {
			break // prefixes only grow from here
		}
		sc.line(body[pos:end])
		pos = end
		consider(pos)
	}

	if best < 0 {
		return cutUTF8(notice, limit)
	}
	return body[:best] + bestCloser + notice
}

// truncationNotice is the text appended to a truncated report.
func truncationNotice(fullLen int, artifactsURL string) string {
	where := "in this job's artifacts"
	if artifactsURL != "" {
		where = "in the job artifacts: " + artifactsURL
	}
	return fmt.Sprintf("\n---\n\n:warning: **Report truncated.** The full report (%d bytes) is larger than a GitLab comment can hold; read it %s\n",
		fullLen, where)
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// mdScanner tracks, line by line, the Markdown constructs a cut would leave
// open: a fenced code block and nested <details> elements. It is
// deliberately small: it knows CommonMark fences (``` or ~~~, three or more,
// closed by the same character at least as long with nothing after it) and
// counts <details ...> / </details> tags outside fences. Indentation before a
// fence is accepted at any depth so that fences inside list items are seen.
type mdScanner struct {
	fenceChar   byte   // 0 when not inside a fenced block
	fenceLen    int    // length of the opening fence run
	fenceIndent string // indentation of the opening fence, reused to close it
	details     int    // <details> elements currently open
}

func (s *mdScanner) line(l string) {
	l = strings.TrimRight(l, "\r\n")
	indentLen := len(l) - len(strings.TrimLeft(l, " \t"))
	indent, rest := l[:indentLen], l[indentLen:]

	if s.fenceChar != 0 {
		// Inside a fence: only a closing fence matters.
		if n := runLen(rest, s.fenceChar); n >= s.fenceLen && strings.TrimSpace(rest[n:]) == "" {
			s.fenceChar, s.fenceLen, s.fenceIndent = 0, 0, ""
		}
		return
	}
	if len(rest) > 0 && (rest[0] == '`' || rest[0] == '~') {
		c := rest[0]
		n := runLen(rest, c)
		// A backtick fence's info string may not contain a backtick
		// (CommonMark 4.5); otherwise it is inline code, not a fence.
		if n >= 3 && (c == '~' || !strings.ContainsRune(rest[n:], '`')) {
			s.fenceChar, s.fenceLen, s.fenceIndent = c, n, indent
			return
		}
	}
	s.details += countOpenDetails(l) - countCloseDetails(l)
	if s.details < 0 {
		s.details = 0
	}
}

// closer returns the text that closes what is open at the current point.
func (s *mdScanner) closer() string {
	var b strings.Builder
	if s.fenceChar != 0 {
		b.WriteString(s.fenceIndent)
		b.WriteString(strings.Repeat(string(s.fenceChar), s.fenceLen))
		b.WriteByte('\n')
	}
	for range s.details {
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

func runLen(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

// countOpenDetails counts "<details>" and "<details " (with attributes),
// case-insensitively.
func countOpenDetails(l string) int {
	lower := strings.ToLower(l)
	n := 0
	for i := 0; ; {
		j := strings.Index(lower[i:], "<details")
		if j < 0 {
			return n
		}
		i += j + len("<details")
		if i >= len(lower) || lower[i] == '>' || lower[i] == ' ' || lower[i] == '\t' {
			n++
		}
	}
}

func countCloseDetails(l string) int {
	return strings.Count(strings.ToLower(l), "</details>")
}
