package yamlnode

import "unsafe"

// pushScalar queues a scalar token whose value is the input bytes
// [from, to).
func (p *parser) pushScalar(style Style, start mark, from, to int) {
	p.textLimit(start, to-from)
	*p.push() = token{typ: tokScalar, style: style, start: start, voff: int32(from), vlen: int32(to - from)}
}

// pushBuilt queues a scalar token whose value is the string assembled in
// p.sb.
func (p *parser) pushBuilt(style Style, start mark) {
	p.textLimit(start, len(p.sb))
	var off int32
	if len(p.sb) > 0 {
		off = int32(len(p.strs))
		p.strs = append(p.strs, string(p.sb))
	}
	t := p.push()
	*t = token{typ: tokScalar, style: style, start: start}
	if len(p.sb) > 0 {
		t.voff = off
		t.vlen = -1
	}
}

// tokenValue returns a scalar token's value. Slices of the input become
// strings without copying: the input is a private copy that is never
// written after scanning.
func (p *parser) tokenValue(t *token) string {
	switch {
	case t.vlen > 0:
		return unsafe.String(&p.buf[t.voff], int(t.vlen))
	case t.vlen < 0:
		return p.strs[t.voff]
	}
	return ""
}

// scanPlainScalar mirrors yaml_parser_scan_plain_scalar. The value of a
// scalar that fits on one line is a slice of the input; a value is built
// only when a scalar continues on a later line and needs folding.
func (p *parser) scanPlainScalar() {
	buf := p.buf
	indent := p.indent + 1
	start := p.mark()
	startPos := p.pos
	endPos := p.pos // just after the last non-blank character read
	stop := uint8(clStopBlock)
	if p.flowLevel > 0 {
		stop = clStopFlow
	}
	building := false
	leadingBlanks := false
	breaks := 0     // line breaks since the last content, when leadingBlanks
	blanks := false // blanks read after content on the same line

	pos, col := p.pos, p.col
	for {
		if col == 0 && p.isDocumentIndicator(pos) {
			break
		}
		if buf[pos] == '#' {
			break
		}
		seg := pos
		for {
			c := buf[pos]
			if charClass[c]&stop == 0 {
				pos++
				col++
				continue
			}
			if c >= 0x80 {
				w := utf8Width(c)
				pos += w
				p.extra += w - 1
				col++
				continue
			}
			if c == ':' && !isBlankz(buf[pos+1]) {
				// ':' ends a plain scalar only when a blank follows.
				pos++
				col++
				continue
			}
			break
		}
		if pos > seg {
			if leadingBlanks {
				if !building {
					building = true
					p.sb = append(p.sb[:0], buf[startPos:endPos]...)
				}
				if breaks == 1 {
					p.sb = append(p.sb, ' ')
				} else {
					for i := 1; i < breaks; i++ {
						p.sb = append(p.sb, '\n')
					}
				}
				leadingBlanks = false
				breaks = 0
			} else if blanks && building {
				p.sb = append(p.sb, buf[endPos:seg]...)
			}
			blanks = false
			if building {
				p.sb = append(p.sb, buf[seg:pos]...)
			}
			endPos = pos
		}
		c := buf[pos]
		if !(isBlank(c) || isBreak(c)) {
			break
		}
		for {
			c = buf[pos]
			if isBlank(c) {
				if leadingBlanks && col < indent && c == '\t' {
					p.pos, p.col = pos, col
					p.scannerError("while scanning a plain scalar", start, "found a tab character that violates indentation")
				}
				if !leadingBlanks {
					blanks = true
				}
				pos++
				col++
			} else if c == '\n' || c == '\r' {
				if c == '\r' && buf[pos+1] == '\n' {
					pos += 2
				} else {
					pos++
				}
				p.line++
				col = 0
				if !leadingBlanks {
					blanks = false
					leadingBlanks = true
					breaks = 1
				} else {
					breaks++
				}
			} else {
				break
			}
		}
		if p.flowLevel == 0 && col < indent {
			break
		}
	}
	p.pos, p.col = pos, col
	p.newlines = 0
	if leadingBlanks {
		p.newlines = breaks
		p.simpleKeyAllowed = true
	}
	if building {
		p.pushBuilt(Plain, start)
		return
	}
	p.pushScalar(Plain, start, startPos, endPos)
}

// scanFlowScalar scans a single- or double-quoted scalar. The value of a
// scalar on one line without escapes is a slice of the input; anything else
// goes through scanFlowScalarSlow, a port of yaml_parser_scan_flow_scalar.
func (p *parser) scanFlowScalar(single bool) {
	buf := p.buf
	start := p.mark()
	quote := byte('"')
	style := DoubleQuoted
	if single {
		quote = '\''
		style = SingleQuoted
	}
	pos := p.pos + 1
	col := p.col + 1
	extra := 0
loop:
	for {
		c := buf[pos]
		if charClass[c]&clQuote == 0 {
			pos++
			col++
			continue
		}
		switch {
		case c == ' ' || c == '\t':
		case c >= 0x80:
			w := utf8Width(c)
			pos += w - 1
			extra += w - 1
		case c == quote:
			if single && buf[pos+1] == '\'' {
				break loop
			}
			p.pushScalar(style, start, p.pos+1, pos)
			p.pos = pos + 1
			p.col = col + 1
			p.extra += extra
			p.newlines = 0
			return
		case c == '\'' || c == '"' || (c == '\\' && single):
			// the other quote, or a backslash in single quotes: content
		default:
			break loop // line break, end of input, escape
		}
		pos++
		col++
	}
	p.scanFlowScalarSlow(single, start, style)
}

func (p *parser) scanFlowScalarSlow(single bool, start mark, style Style) {
	buf := p.buf
	p.skip() // the opening quote
	s := p.sb[:0]
	var leadingBreak, trailingBreaks, whitespaces int // counts/lengths
	var wsStart int
	for {
		if p.col == 0 && p.isDocumentIndicator(p.pos) {
			p.scannerError("while scanning a quoted scalar", start, "found unexpected document indicator")
		}
		if buf[p.pos] == 0 {
			p.scannerError("while scanning a quoted scalar", start, "found unexpected end of stream")
		}
		leadingBlanks := false
		for !isBlankz(buf[p.pos]) {
			c := buf[p.pos]
			if single && c == '\'' && buf[p.pos+1] == '\'' {
				s = append(s, '\'')
				p.skip()
				p.skip()
			} else if single && c == '\'' {
				break
			} else if !single && c == '"' {
				break
			} else if !single && c == '\\' && isBreak(buf[p.pos+1]) {
				p.skip()
				p.skipLine()
				leadingBlanks = true
				break
			} else if !single && c == '\\' {
				codeLength := 0
				switch buf[p.pos+1] {
				case '0':
					s = append(s, 0)
				case 'a':
					s = append(s, '\x07')
				case 'b':
					s = append(s, '\x08')
				case 't', '\t':
					s = append(s, '\x09')
				case 'n':
					s = append(s, '\x0A')
				case 'v':
					s = append(s, '\x0B')
				case 'f':
					s = append(s, '\x0C')
				case 'r':
					s = append(s, '\x0D')
				case 'e':
					s = append(s, '\x1B')
				case ' ':
					s = append(s, '\x20')
				case '"':
					s = append(s, '"')
				case '\'':
					s = append(s, '\'')
				case '\\':
					s = append(s, '\\')
				case 'N': // NEL (#x85)
					s = append(s, '\xC2', '\x85')
				case '_': // #xA0
					s = append(s, '\xC2', '\xA0')
				case 'L': // LS (#x2028)
					s = append(s, '\xE2', '\x80', '\xA8')
				case 'P': // PS (#x2029)
					s = append(s, '\xE2', '\x80', '\xA9')
				case 'x':
					codeLength = 2
				case 'u':
					codeLength = 4
				case 'U':
					codeLength = 8
				default:
					p.scannerError("while parsing a quoted scalar", start, "found unknown escape character")
				}
				p.skip()
				p.skip()
				if codeLength > 0 {
					value := 0
					for k := 0; k < codeLength; k++ {
						var h byte
						if p.pos+k < len(buf) {
							h = buf[p.pos+k]
						}
						switch {
						case h >= '0' && h <= '9':
							value = value<<4 + int(h-'0')
						case h >= 'a' && h <= 'f':
							value = value<<4 + int(h-'a') + 10
						case h >= 'A' && h <= 'F':
							value = value<<4 + int(h-'A') + 10
						default:
							p.scannerError("while parsing a quoted scalar", start, "did not find expected hexdecimal number")
						}
					}
					if (value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF {
						p.scannerError("while parsing a quoted scalar", start, "found invalid Unicode character escape code")
					}
					switch {
					case value <= 0x7F:
						s = append(s, byte(value))
					case value <= 0x7FF:
						s = append(s, byte(0xC0+(value>>6)), byte(0x80+(value&0x3F)))
					case value <= 0xFFFF:
						s = append(s, byte(0xE0+(value>>12)), byte(0x80+((value>>6)&0x3F)), byte(0x80+(value&0x3F)))
					default:
						s = append(s, byte(0xF0+(value>>18)), byte(0x80+((value>>12)&0x3F)), byte(0x80+((value>>6)&0x3F)), byte(0x80+(value&0x3F)))
					}
					for k := 0; k < codeLength; k++ {
						p.skip()
					}
				}
			} else {
				w := utf8Width(c)
				s = append(s, buf[p.pos:p.pos+w]...)
				p.skip()
			}
		}
		c := buf[p.pos]
		if (single && c == '\'') || (!single && c == '"') {
			break
		}
		whitespaces = 0
		wsStart = p.pos
		for {
			c = buf[p.pos]
			if isBlank(c) {
				if !leadingBlanks {
					whitespaces++
				}
				p.skip()
			} else if isBreak(c) {
				if !leadingBlanks {
					whitespaces = 0
					leadingBreak = 1
					leadingBlanks = true
				} else {
					trailingBreaks++
				}
				p.skipLine()
			} else {
				break
			}
		}
		if leadingBlanks {
			// leadingBreak is always "\n" here (line breaks read as '\n');
			// after an escaped line break it is empty.
			if leadingBreak > 0 {
				if trailingBreaks == 0 {
					s = append(s, ' ')
				} else {
					for i := 0; i < trailingBreaks; i++ {
						s = append(s, '\n')
					}
				}
			} else {
				for i := 0; i < trailingBreaks; i++ {
					s = append(s, '\n')
				}
			}
			trailingBreaks = 0
			leadingBreak = 0
		} else if whitespaces > 0 {
			s = append(s, buf[wsStart:wsStart+whitespaces]...)
		}
	}
	p.skip() // the closing quote
	p.sb = s
	p.pushBuilt(style, start)
}

// scanBlockScalar mirrors yaml_parser_scan_block_scalar.
func (p *parser) scanBlockScalar(literal bool) {
	buf := p.buf
	start := p.mark()
	p.skip() // '|' or '>'

	chomping, increment := 0, 0
	c := buf[p.pos]
	if c == '+' || c == '-' {
		chomping = -1
		if c == '+' {
			chomping = 1
		}
		p.skip()
		c = buf[p.pos]
		if c >= '0' && c <= '9' {
			if c == '0' {
				p.scannerError("while scanning a block scalar", start, "found an indentation indicator equal to 0")
			}
			increment = int(c - '0')
			p.skip()
		}
	} else if c >= '0' && c <= '9' {
		if c == '0' {
			p.scannerError("while scanning a block scalar", start, "found an indentation indicator equal to 0")
		}
		increment = int(c - '0')
		p.skip()
		c = buf[p.pos]
		if c == '+' || c == '-' {
			chomping = -1
			if c == '+' {
				chomping = 1
			}
			p.skip()
		}
	}
	for isBlank(buf[p.pos]) {
		p.skip()
	}
	if buf[p.pos] == '#' {
		p.scanLineComment()
		for !isBreakz(buf[p.pos]) {
			p.skip()
		}
	}
	if !isBreakz(buf[p.pos]) {
		p.scannerError("while scanning a block scalar", start, "did not find expected comment or line break")
	}
	if isBreak(buf[p.pos]) {
		p.skipLine()
	}

	indent := 0
	if increment > 0 {
		if p.indent >= 0 {
			indent = p.indent + increment
		} else {
			indent = increment
		}
	}

	s := p.sb[:0]
	leadingBreak := 0 // 0 or 1 ("\n")
	trailingBreaks := p.scanBlockScalarBreaks(&indent, start)
	leadingBlank, trailingBlank := false, false
	for p.col == indent && buf[p.pos] != 0 {
		trailingBlank = isBlank(buf[p.pos])
		if !literal && !leadingBlank && !trailingBlank && leadingBreak > 0 {
			if trailingBreaks == 0 {
				s = append(s, ' ')
			}
		} else if leadingBreak > 0 {
			s = append(s, '\n')
		}
		leadingBreak = 0
		for ; trailingBreaks > 0; trailingBreaks-- {
			s = append(s, '\n')
		}
		leadingBlank = isBlank(buf[p.pos])
		from := p.pos
		for !isBreakz(buf[p.pos]) {
			p.skip()
		}
		s = append(s, buf[from:p.pos]...)
		if isBreak(buf[p.pos]) {
			leadingBreak = 1
			p.skipLine()
		}
		trailingBreaks = p.scanBlockScalarBreaks(&indent, start)
	}
	if chomping != -1 && leadingBreak > 0 {
		s = append(s, '\n')
	}
	if chomping == 1 {
		for ; trailingBreaks > 0; trailingBreaks-- {
			s = append(s, '\n')
		}
	}
	p.sb = s
	style := Literal
	if !literal {
		style = Folded
	}
	p.pushBuilt(style, start)
}

// scanBlockScalarBreaks mirrors yaml_parser_scan_block_scalar_breaks; it
// returns the number of line breaks read.
func (p *parser) scanBlockScalarBreaks(indent *int, start mark) int {
	buf := p.buf
	breaks := 0
	maxIndent := 0
	for {
		for (*indent == 0 || p.col < *indent) && buf[p.pos] == ' ' {
			p.skip()
		}
		if p.col > maxIndent {
			maxIndent = p.col
		}
		if (*indent == 0 || p.col < *indent) && buf[p.pos] == '\t' {
			p.scannerError("while scanning a block scalar", start, "found a tab character where an indentation space is expected")
		}
		if !isBreak(buf[p.pos]) {
			break
		}
		p.skipLine()
		breaks++
	}
	if *indent == 0 {
		*indent = maxIndent
		if *indent < p.indent+1 {
			*indent = p.indent + 1
		}
		if *indent < 1 {
			*indent = 1
		}
	}
	return breaks
}

func isBreakz(c byte) bool { return c == '\r' || c == '\n' || c == 0 }
