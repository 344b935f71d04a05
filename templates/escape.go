package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Python renders s as a Python string literal that evaluates to exactly s
// (ast.literal_eval round-trips it). Everything outside printable ASCII is
// escaped, so no byte of model text can end the literal or start code.
func Python(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Invalid UTF-8 cannot be represented in a str; U+FFFD keeps it visible.
			b.WriteString(`\ufffd`)
			i++
			continue
		}
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// PythonList renders a list of strings as a Python list literal.
func PythonList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = Python(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// JSON renders any value as compact JSON (a string becomes a quoted, escaped
// JSON string).
func JSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// SQLIdent renders a name as a double-quoted SQL identifier ("" doubles a quote).
func SQLIdent(s string) string {
	return `"` + strings.ReplaceAll(text(s), `"`, `""`) + `"`
}

// SQLString renders s as a single-quoted SQL string literal (a quote is doubled).
func SQLString(s string) string {
	return `'` + strings.ReplaceAll(text(s), `'`, `''`) + `'`
}

// SQLComment renders text as SQL line comments, one per line (\n, \r\n and
// a lone \r all end a line).
func SQLComment(s string) string {
	return commentLines(s, "-- ")
}

// PythonComment renders text as Python comment lines (\n, \r\n and a lone
// \r all end a line).
func PythonComment(s string) string {
	return commentLines(s, "# ")
}

func commentLines(s, prefix string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(text(s), "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// text makes model text fit a SQL or Python source file: each byte of
// invalid UTF-8 becomes U+FFFD (as Python does), so the file stays valid
// UTF-8, then NUL characters, which no SQL engine or Python file accepts, are
// dropped.
func text(s string) string {
	return strings.ReplaceAll(validUTF8(s), "\x00", "")
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
