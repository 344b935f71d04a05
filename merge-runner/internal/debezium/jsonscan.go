package debezium

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// scanner is a small, strict, allocation-free JSON reader over one event
// line. It validates everything it reads or skips, strings' UTF-8 included;
// values are parsed by the caller according to the column they belong to.
type scanner struct {
	b       []byte
	i       int
	scratch []byte // unescaped string content; reused
}

// syntaxError is undecodable JSON.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.pos) }

// utf8Error is a string whose bytes are not UTF-8. JSON text exchanged
// between systems must be UTF-8 (RFC 8259 §8.1), and the JsonConverter's
// Jackson generator writes nothing else, so it is bad input, not data.
type utf8Error struct{ pos int }

func (e *utf8Error) Error() string { return e.reason() }

func (e *utf8Error) reason() string {
	return fmt.Sprintf("a string is not valid UTF-8 at byte %d (JSON text must be UTF-8, RFC 8259 §8.1)", e.pos)
}

// strSpecial marks the bytes a string scan must stop at: the closing quote,
// a backslash, control characters (which JSON does not allow unescaped) and
// the lead bytes of multi-byte UTF-8, which are validated.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// validRune checks the UTF-8 sequence at b[i] (a byte >= 0x80) and returns
// its length, or 0 if it is not valid UTF-8.
func validRune(b []byte, i int) int {
	if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
		return size
	}
	return 0
}

func (s *scanner) reset(b []byte) {
	s.b, s.i = b, 0
}

func (s *scanner) errf(format string, args ...any) error {
	return &syntaxError{pos: s.i, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) unexpected(what string) error {
	if s.i >= len(s.b) {
		return &syntaxError{pos: s.i, msg: "unexpected end of input, expected " + what}
	}
	return &syntaxError{pos: s.i, msg: fmt.Sprintf("unexpected %q, expected %s", s.b[s.i], what)}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// isNull consumes a null literal if one is next.
func (s *scanner) isNull() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.unexpected(word)
	}
	s.i += len(word)
	return nil
}

// objStart consumes '{' and reports whether the object has fields.
func (s *scanner) objStart() (bool, error) {
	if s.peek() != '{' {
		return false, s.unexpected("an object")
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return false, nil
	}
	return true, nil
}

// objKey reads a field name and its colon; the value follows. The returned
// bytes are valid until the next string is read.
func (s *scanner) objKey() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("a field name")
	}
	k, err := s.str()
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.peek() != ':' {
		return nil, s.unexpected("':'")
	}
	s.i++
	s.ws()
	return k, nil
}

// objNext consumes the separator after a field value and reports whether
// another field follows.
func (s *scanner) objNext() (bool, error) {
	s.ws()
	switch s.peek() {
	case ',':
		s.i++
		s.ws()
		return true, nil
	case '}':
		s.i++
		return false, nil
	}
	return false, s.unexpected("',' or '}'")
}

// arrStart consumes '[' and reports whether the array has elements.
func (s *scanner) arrStart() (bool, error) {
	if s.peek() != '[' {
		return false, s.unexpected("an array")
	}
	s.i++
	s.ws()
	if s.peek() == ']' {
		s.i++
		return false, nil
	}
	return true, nil
}

// arrNext consumes the separator after an element and reports whether
// another element follows.
func (s *scanner) arrNext() (bool, error) {
	s.ws()
	switch s.peek() {
	case ',':
		s.i++
		s.ws()
		return true, nil
	case ']':
		s.i++
		return false, nil
	}
	return false, s.unexpected("',' or ']'")
}

// str reads a string and returns its unescaped content, which aliases the
// input when there are no escapes and the scratch buffer otherwise; either
// way it is valid only until the next call.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("a string")
	}
	start := s.i + 1
	i := start
	b := s.b
	for i < len(b) {
		c := b[i]
		if !strSpecial[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return b[start:i], nil
		case c == '\\':
			s.i = i
			return s.strEscaped(start)
		case c < 0x20:
			s.i = i
			return nil, s.errf("control character in string")
		}
		n := validRune(b, i)
		if n == 0 {
			s.i = i
			return nil, &utf8Error{pos: i}
		}
		i += n
	}
	s.i = i
	return nil, s.errf("unterminated string")
}

// strEscaped continues str from the first backslash at s.i.
func (s *scanner) strEscaped(start int) ([]byte, error) {
	out := append(s.scratch[:0], s.b[start:s.i]...)
	b := s.b
	i := s.i
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			s.scratch = out
			return out, nil
		case c < 0x20:
			s.i = i
			return nil, s.errf("control character in string")
		case c >= utf8.RuneSelf:
			n := validRune(b, i)
			if n == 0 {
				s.i = i
				return nil, &utf8Error{pos: i}
			}
			out = append(out, b[i:i+n]...)
			i += n
			continue
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			s.i = i
			return nil, s.errf("unterminated string")
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				s.i = i
				return nil, s.errf("invalid \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					r2, ok = hex4(b, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			s.i = i
			return nil, s.errf("invalid escape")
		}
		i += 2
	}
	s.i = i
	return nil, s.errf("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number token, checking JSON's number grammar.
func (s *scanner) number() ([]byte, error) {
	b := s.b
	start := s.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return nil, s.unexpected("a number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.unexpected("a digit")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.unexpected("a digit")
		}
	}
	s.i = i
	return b[start:i], nil
}

// skip skips one value of any kind, checking its syntax.
func (s *scanner) skip() error {
	return s.skipDepth(0)
}

const maxDepth = 1000

func (s *scanner) skipDepth(depth int) error {
	if depth > maxDepth {
		return s.errf("nesting too deep")
	}
	switch c := s.peek(); c {
	case '{':
		more, err := s.objStart()
		for err == nil && more {
			if _, err = s.objKey(); err != nil {
				break
			}
			if err = s.skipDepth(depth + 1); err != nil {
				break
			}
			more, err = s.objNext()
		}
		return err
	case '[':
		more, err := s.arrStart()
		for err == nil && more {
			if err = s.skipDepth(depth + 1); err != nil {
				break
			}
			more, err = s.arrNext()
		}
		return err
	case '"':
		return s.skipString()
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, err := s.number()
		return err
	}
}

// skipString skips a string without unescaping it.
func (s *scanner) skipString() error {
	b := s.b
	i := s.i + 1
	for i < len(b) {
		c := b[i]
		if !strSpecial[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(b) {
				s.i = i
				return s.errf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b, i+2); !ok {
					s.i = i
					return s.errf("invalid \\u escape")
				}
				i += 6
			default:
				s.i = i
				return s.errf("invalid escape")
			}
		case c < 0x20:
			s.i = i
			return s.errf("control character in string")
		default:
			n := validRune(b, i)
			if n == 0 {
				s.i = i
				return &utf8Error{pos: i}
			}
			i += n
		}
	}
	s.i = i
	return s.errf("unterminated string")
}

// end checks that only whitespace follows.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.errf("unexpected data after the event")
	}
	return nil
}

// bstr views bytes as a string for a call that does not keep it.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
