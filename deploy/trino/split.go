package trino

import (
	"fmt"
	"strings"
)

// Statement is one SQL statement of a file.
type Statement struct {
	// SQL runs from the statement's first token to its last, without the
	// terminating semicolon: comments before and after it are dropped,
	// comments inside it are kept.
	SQL string
	// Line is the 1-based line of the file where SQL starts.
	Line int
}

// Split splits SQL text into statements at the semicolons that are not in a
// single-quoted string (a doubled quote stays inside it), a double-quoted
// identifier (likewise), a -- line comment or a /* */ block
// comment (not nested, as in Trino). Empty and comment-only statements are
// dropped. A string, quoted identifier or block comment still open at the
// end of the text is an error.
func Split(sql string) ([]Statement, error) {
	var out []Statement
	start, end := -1, -1 // the current statement's first token and the end of its last
	startLine, line := 0, 1
	flush := func() {
		if start >= 0 {
			out = append(out, Statement{SQL: sql[start:end], Line: startLine})
		}
		start, end = -1, -1
	}
	token := func(i int) {
		if start < 0 {
			start, startLine = i, line
		}
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			if n := strings.IndexByte(sql[i:], '\n'); n >= 0 {
				i += n // the newline is counted by its own case
			} else {
				i = len(sql)
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			n := strings.Index(sql[i+2:], "*/")
			if n < 0 {
				return nil, fmt.Errorf("line %d: block comment /* is never closed", line)
			}
			line += strings.Count(sql[i:i+2+n], "\n")
			i += 2 + n + 2
		case c == '\'' || c == '"':
			token(i)
			j := i + 1
			for {
				k := strings.IndexByte(sql[j:], c)
				if k < 0 {
					what := "string"
					if c == '"' {
						what = "quoted identifier"
					}
					return nil, fmt.Errorf("line %d: %s %c… is never closed", line, what, c)
				}
				j += k + 1
				if j < len(sql) && sql[j] == c { // a doubled quote stays inside
					j++
					continue
				}
				break
			}
			line += strings.Count(sql[i:j], "\n")
			i, end = j, j
		case c == ';':
			flush()
			i++
		default:
			token(i)
			i++
			end = i
		}
	}
	flush()
	return out, nil
}
