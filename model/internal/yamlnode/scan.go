package yamlnode

// The scanner turns the input into tokens. It follows the structure of the
// libyaml scanner that go.yaml.in/yaml/v3 uses (token queue, simple keys,
// indentation stack) closely, because matching yaml.v3 node for node and
// error for error is easiest when the decisions are taken in the same order
// and on the same state. What differs is the plumbing: the whole input is in
// memory, there are no per-token allocations, comments are skipped instead
// of collected, and the constructs model files do not use (anchors, aliases,
// tags, directives, complex keys) are refused as soon as they are seen.

type tokenType uint8

const (
	tokNone tokenType = iota
	tokStreamStart
	tokStreamEnd
	tokDocumentStart
	tokDocumentEnd
	tokBlockSequenceStart
	tokBlockMappingStart
	tokBlockEnd
	tokFlowSequenceStart
	tokFlowSequenceEnd
	tokFlowMappingStart
	tokFlowMappingEnd
	tokBlockEntry
	tokFlowEntry
	tokKey
	tokValue
	tokScalar
)

// mark is a position in the input. line and column are 0-based; column and
// index count characters, not bytes, as yaml.v3 does.
type mark struct {
	index  int32
	line   int32
	column int32
}

// token holds no pointers, so queueing tokens needs no write barriers. A
// scalar's value is the input bytes [voff, voff+vlen) or, when vlen < 0,
// the built string p.strs[voff].
type token struct {
	typ   tokenType
	style Style // scalars only
	start mark
	voff  int32
	vlen  int32
}

// endMark is the mark just after the token. Only the end marks of
// indicator tokens (one character wide) and of KEY tokens created for simple
// keys (zero width) are ever used.
func (t *token) endMark() mark {
	if t.typ == tokKey {
		return t.start
	}
	return mark{t.start.index + 1, t.start.line, t.start.column + 1}
}

type simpleKey struct {
	possible    bool
	required    bool
	tokenNumber int
	mark        mark
}

// keyTok is one entry of the token-number -> simple-key-level index that
// yaml.v3 keeps in a map (simple_keys_by_tok).
type keyTok struct {
	tok, level int
}

const (
	maxFlowLevel = 10000
	maxIndents   = 10000
)

// Character classes.
const (
	clBlankz    = 1 << iota // ' ', '\t', '\r', '\n', NUL
	clStopBlock             // ends a run of plain-scalar characters in block context
	clStopFlow              // ends a run of plain-scalar characters in flow context
	clQuote                 // ends a fast run in a quoted scalar
)

var charClass = func() (t [256]uint8) {
	for _, c := range []byte{' ', '\t', '\r', '\n', 0} {
		t[c] |= clBlankz | clStopBlock | clStopFlow | clQuote
	}
	t[':'] |= clStopBlock | clStopFlow
	for _, c := range []byte{',', '?', '[', ']', '{', '}'} {
		t[c] |= clStopFlow
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] |= clStopBlock | clStopFlow | clQuote
	}
	t['\''] |= clQuote
	t['"'] |= clQuote
	t['\\'] |= clQuote
	return t
}()

func isBlank(c byte) bool  { return c == ' ' || c == '\t' }
func isBreak(c byte) bool  { return c == '\r' || c == '\n' }
func isBlankz(c byte) bool { return charClass[c]&clBlankz != 0 }

// utf8Width is the length of the UTF-8 sequence starting with c (the input
// has been validated).
func utf8Width(c byte) int {
	switch {
	case c < 0x80:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	}
	return 4
}

func (p *parser) mark() mark {
	return mark{int32(p.pos - p.extra), int32(p.line), int32(p.col)}
}

// skip moves past one character that is not a line break.
func (p *parser) skip() {
	c := p.buf[p.pos]
	if c != ' ' && c != '\t' {
		p.newlines = 0
	}
	p.col++
	if c < 0x80 {
		p.pos++
		return
	}
	w := utf8Width(c)
	p.pos += w
	p.extra += w - 1
}

// skipLine moves past one line break (CR LF counts as one).
func (p *parser) skipLine() {
	switch p.buf[p.pos] {
	case '\r':
		if p.buf[p.pos+1] == '\n' {
			p.pos += 2
		} else {
			p.pos++
		}
	case '\n':
		p.pos++
	default:
		return
	}
	p.col = 0
	p.line++
	p.newlines++
}

// skipToBreak moves to the next line break or the end of the input; it is
// used for comment text, which always starts with a non-blank '#'.
func (p *parser) skipToBreak() {
	buf := p.buf
	pos, col := p.pos, p.col
	for {
		c := buf[pos]
		if c == '\n' || c == '\r' || c == 0 {
			break
		}
		col++
		if c < 0x80 {
			pos++
			continue
		}
		w := utf8Width(c)
		pos += w
		p.extra += w - 1
	}
	p.pos, p.col = pos, col
	p.newlines = 0
}

// isDocumentIndicator reports whether "---" or "..." followed by a blank,
// a break or the end starts at pos (the caller checks the column).
func (p *parser) isDocumentIndicator(pos int) bool {
	b := p.buf
	c := b[pos]
	return (c == '-' || c == '.') && b[pos+1] == c && b[pos+2] == c && isBlankz(b[pos+3])
}

// The token queue is a ring: tokens[head&mask] is the next token for the
// parser and tail counts the tokens ever queued, so head is yaml.v3's
// tokens_parsed and tail is the number the next queued token gets.

// push appends a token to the queue and returns it for filling in; the
// caller sets every field. fetchMoreTokens makes room for the tokens one
// fetchNextToken can queue (at most maxQueuedPerFetch, BLOCK-ENDs aside,
// which reserve their own room).
func (p *parser) push() *token {
	t := &p.tokens[p.tail&p.mask]
	p.tail++
	return t
}

const maxQueuedPerFetch = 4

// reserve makes room for n more tokens.
func (p *parser) reserve(n int) {
	if p.tail-p.head+n > len(p.tokens) {
		p.growTokens()
	}
}

//go:noinline
func (p *parser) growTokens() {
	n := make([]token, 4*len(p.tokens))
	for i := p.head; i < p.tail; i++ {
		n[i&(len(n)-1)] = p.tokens[i&p.mask]
	}
	p.tokens = n
	p.mask = len(n) - 1
}

// insertToken mirrors yaml_insert_token: append, then move into position
// pos (relative to the queue head) when pos >= 0.
func (p *parser) insertToken(pos int, typ tokenType, m mark) {
	p.reserve(1)
	t := p.push()
	*t = token{typ: typ, start: m}
	if pos < 0 {
		return
	}
	for i := p.tail - 1; i > p.head+pos; i-- {
		p.tokens[i&p.mask] = p.tokens[(i-1)&p.mask]
	}
	p.tokens[(p.head+pos)&p.mask] = token{typ: typ, start: m}
}

// pushIndicator queues a one-character indicator token at the current
// position and moves past the character.
func (p *parser) pushIndicator(typ tokenType) {
	*p.push() = token{typ: typ, start: p.mark()}
	p.pos++
	p.col++
	p.newlines = 0
}

// peek returns the token at the head of the queue. The pointer is valid
// until the next call of peek or skipToken.
func (p *parser) peek() *token {
	if !p.tokenAvailable {
		p.fetchMoreTokens()
	}
	return &p.tokens[p.head&p.mask]
}

func (p *parser) skipToken() {
	p.head++
	// This is the quick exit of fetchMoreTokens: enough tokens queued and
	// no simple key that could still turn the head token into a key.
	p.tokenAvailable = p.tail-p.head > 2 && len(p.keyByTok) == 0
}

func (p *parser) keyLookup(tok int) (int, bool) {
	for _, e := range p.keyByTok {
		if e.tok == tok {
			return e.level, true
		}
	}
	return 0, false
}

func (p *parser) keySet(tok, level int) {
	for i := range p.keyByTok {
		if p.keyByTok[i].tok == tok {
			p.keyByTok[i].level = level
			return
		}
	}
	if len(p.keyByTok) >= 8 {
		// Entries for tokens already handed to the parser can never be
		// looked up again (lookups are for the head token only).
		k := p.keyByTok[:0]
		for _, e := range p.keyByTok {
			if e.tok >= p.head {
				k = append(k, e)
			}
		}
		p.keyByTok = k
	}
	p.keyByTok = append(p.keyByTok, keyTok{tok, level})
}

func (p *parser) keyDelete(tok int) {
	for i, e := range p.keyByTok {
		if e.tok == tok {
			p.keyByTok = append(p.keyByTok[:i], p.keyByTok[i+1:]...)
			return
		}
	}
}

// fetchMoreTokens mirrors yaml_parser_fetch_more_tokens: it keeps at least
// three tokens queued (yaml.v3 looks two tokens ahead for its comment
// handling) and, while the head token may still become a simple key, keeps
// scanning until that is decided. The timing matters: it decides which of
// two errors yaml.v3 reports first, and in odd inputs where a KEY token
// lands in the queue.
func (p *parser) fetchMoreTokens() {
	for {
		if p.tail-p.head > 2 {
			level, ok := p.keyLookup(p.head)
			// (level is always a current flow level: an entry can outlive
			// its level only after the key went stale, and the keys of the
			// enclosing levels go stale first, ending the lookahead.)
			if !ok || level >= len(p.simpleKeys) || !p.simpleKeyIsValid(&p.simpleKeys[level]) {
				break
			}
		}
		p.reserve(maxQueuedPerFetch)
		p.fetchNextToken()
	}
	p.tokenAvailable = true
}

func (p *parser) fetchNextToken() {
	if !p.streamStartProduced {
		p.fetchStreamStart()
		return
	}
	scanMark := p.mark()
	buf := p.buf
	switch buf[p.pos] {
	case ' ', '\t', '#', '\r', '\n':
		p.scanToNextToken()
	}
	if p.indent > p.col && p.flowLevel == 0 {
		p.unrollIndent(p.col, scanMark)
	}

	pos := p.pos
	c := buf[pos]
	if c == 0 {
		p.fetchStreamEnd()
		return
	}
	if p.col == 0 {
		if c == '%' {
			p.refuse(p.mark(), "YAML directives (%YAML, %TAG) are not supported in model files; remove the directive line")
		}
		if p.isDocumentIndicator(pos) {
			if c == '-' {
				p.fetchDocumentIndicator(tokDocumentStart)
			} else {
				p.fetchDocumentIndicator(tokDocumentEnd)
			}
			return
		}
	}

	switch c {
	case '[':
		p.fetchFlowCollectionStart(tokFlowSequenceStart)
	case '{':
		p.fetchFlowCollectionStart(tokFlowMappingStart)
	case ']':
		p.fetchFlowCollectionEnd(tokFlowSequenceEnd)
	case '}':
		p.fetchFlowCollectionEnd(tokFlowMappingEnd)
	case ',':
		p.fetchFlowEntry()
	case '-':
		if isBlankz(buf[pos+1]) {
			p.fetchBlockEntry()
		} else {
			p.fetchPlainScalar()
		}
	case '?':
		if p.flowLevel > 0 || isBlankz(buf[pos+1]) {
			if p.flowLevel > 0 && !isBlankz(buf[pos+1]) {
				p.refuse(p.mark(), "'?' in a flow collection starts a complex mapping key, which is not supported in model files; quote the value that contains '?'")
			}
			p.refuse(p.mark(), "complex mapping keys ('? key') are not supported in model files; write 'key: value'")
		}
		p.fetchPlainScalar()
	case ':':
		if p.flowLevel > 0 || isBlankz(buf[pos+1]) {
			p.fetchValue()
		} else {
			p.fetchPlainScalar()
		}
	case '*':
		p.refuse(p.mark(), "YAML aliases (*name) are not supported in model files; write the value out, and quote values that start with '*' (for example '*/5 * * * *')")
	case '&':
		p.refuse(p.mark(), "YAML anchors (&name) are not supported in model files; write the value out, and quote values that start with '&'")
	case '!':
		p.refuse(p.mark(), "YAML tags (!tag) are not supported in model files; remove the tag, and quote values that start with '!'")
	case '|', '>':
		if p.flowLevel == 0 {
			p.fetchBlockScalar(c == '|')
		} else {
			p.noToken()
		}
	case '\'', '"':
		p.fetchFlowScalar(c == '\'')
	case ' ', '\t', '\r', '\n', '#', '%', '@', '`':
		p.noToken()
	default:
		p.fetchPlainScalar()
	}

	// A comment after the token on the same line (yaml.v3's deferred
	// yaml_parser_scan_line_comment), except after '-'.
	if p.newlines == 0 {
		q := p.pos
		for buf[q] == ' ' || buf[q] == '\t' {
			q++
		}
		if buf[q] == '#' && q-p.pos < 512 && p.tokens[(p.tail-1)&p.mask].typ != tokBlockEntry {
			p.col += q - p.pos
			p.pos = q
			p.skipToBreak()
		}
	}
}

// noToken reports a character that cannot start any token.
func (p *parser) noToken() {
	m := p.mark()
	msg := "found character that cannot start any token"
	switch c := p.buf[p.pos]; c {
	case '\t':
		msg += " (a tab: indent with spaces, not tabs)"
	case '@', '`':
		msg += " (quote values that start with '" + string(c) + "')"
	case '|', '>':
		msg += " (block scalars cannot appear inside [] or {}; quote the value)"
	}
	p.scannerError("while scanning for the next token", m, msg)
}

func (p *parser) simpleKeyIsValid(k *simpleKey) bool {
	if !k.possible {
		return false
	}
	if int(k.mark.line) < p.line || int(k.mark.index)+1024 < p.pos-p.extra {
		if k.required {
			p.scannerError("while scanning a simple key", k.mark, "could not find expected ':'")
		}
		k.possible = false
		return false
	}
	return true
}

func (p *parser) saveSimpleKey() {
	if !p.simpleKeyAllowed {
		return
	}
	last := len(p.simpleKeys) - 1
	if p.simpleKeys[last].possible {
		p.removeSimpleKey()
	}
	k := &p.simpleKeys[last]
	k.possible = true
	k.required = p.flowLevel == 0 && p.indent == p.col
	k.tokenNumber = p.tail
	k.mark = p.mark()
	p.keySet(k.tokenNumber, last)
}

func (p *parser) removeSimpleKey() {
	k := &p.simpleKeys[len(p.simpleKeys)-1]
	if k.possible {
		if k.required {
			p.scannerError("while scanning a simple key", k.mark, "could not find expected ':'")
		}
		k.possible = false
		p.keyDelete(k.tokenNumber)
	}
}

func (p *parser) increaseFlowLevel() {
	p.simpleKeys = append(p.simpleKeys, simpleKey{
		tokenNumber: p.tail,
		mark:        p.mark(),
	})
	p.flowLevel++
	if p.flowLevel > maxFlowLevel {
		p.scannerError("while increasing flow level", p.simpleKeys[len(p.simpleKeys)-1].mark, "exceeded max depth of 10000")
	}
}

func (p *parser) decreaseFlowLevel() {
	if p.flowLevel > 0 {
		p.flowLevel--
		last := len(p.simpleKeys) - 1
		p.keyDelete(p.simpleKeys[last].tokenNumber)
		p.simpleKeys = p.simpleKeys[:last]
	}
}

func (p *parser) rollIndent(column, number int, typ tokenType, m mark) {
	if p.flowLevel > 0 {
		return
	}
	if p.indent < column {
		p.indents = append(p.indents, p.indent)
		p.indent = column
		if len(p.indents) > maxIndents {
			p.scannerError("while increasing indent level", p.simpleKeys[len(p.simpleKeys)-1].mark, "exceeded max depth of 10000")
		}
		if number > -1 {
			number -= p.head
		}
		p.insertToken(number, typ, m)
	}
}

func (p *parser) unrollIndent(column int, scanMark mark) {
	if p.flowLevel > 0 {
		return
	}
	// yaml.v3 moves the BLOCK-END mark onto a foot comment when there is
	// one; BLOCK-END marks never reach a node, so that is not mirrored.
	blockMark := scanMark
	blockMark.index--
	for p.indent > column {
		p.insertToken(-1, tokBlockEnd, blockMark)
		p.indent = p.indents[len(p.indents)-1]
		p.indents = p.indents[:len(p.indents)-1]
	}
	p.reserve(maxQueuedPerFetch)
}

func (p *parser) fetchStreamStart() {
	p.indent = -1
	p.simpleKeys = append(p.simpleKeys[:0], simpleKey{})
	p.simpleKeyAllowed = true
	p.streamStartProduced = true
	p.insertToken(-1, tokStreamStart, p.mark())
}

func (p *parser) fetchStreamEnd() {
	if p.col != 0 {
		p.col = 0
		p.line++
	}
	p.unrollIndent(-1, p.mark())
	p.removeSimpleKey()
	p.simpleKeyAllowed = false
	p.insertToken(-1, tokStreamEnd, p.mark())
}

func (p *parser) fetchDocumentIndicator(typ tokenType) {
	p.unrollIndent(-1, p.mark())
	p.removeSimpleKey()
	p.simpleKeyAllowed = false
	p.insertToken(-1, typ, p.mark())
	p.pos += 3
	p.col += 3
	p.newlines = 0
}

func (p *parser) fetchFlowCollectionStart(typ tokenType) {
	p.saveSimpleKey()
	p.increaseFlowLevel()
	p.simpleKeyAllowed = true
	p.pushIndicator(typ)
}

func (p *parser) fetchFlowCollectionEnd(typ tokenType) {
	p.removeSimpleKey()
	p.decreaseFlowLevel()
	p.simpleKeyAllowed = false
	p.pushIndicator(typ)
}

func (p *parser) fetchFlowEntry() {
	p.removeSimpleKey()
	p.simpleKeyAllowed = true
	p.pushIndicator(tokFlowEntry)
}

func (p *parser) fetchBlockEntry() {
	if p.flowLevel == 0 {
		if !p.simpleKeyAllowed {
			p.scannerError("", p.mark(), "block sequence entries are not allowed in this context")
		}
		p.rollIndent(p.col, -1, tokBlockSequenceStart, p.mark())
	}
	p.removeSimpleKey()
	p.simpleKeyAllowed = true
	p.pushIndicator(tokBlockEntry)
}

func (p *parser) fetchValue() {
	k := &p.simpleKeys[len(p.simpleKeys)-1]
	if p.simpleKeyIsValid(k) {
		p.insertToken(k.tokenNumber-p.head, tokKey, k.mark)
		p.rollIndent(int(k.mark.column), k.tokenNumber, tokBlockMappingStart, k.mark)
		k.possible = false
		p.keyDelete(k.tokenNumber)
		p.simpleKeyAllowed = false
	} else {
		if p.flowLevel == 0 {
			if !p.simpleKeyAllowed {
				p.scannerError("", p.mark(), "mapping values are not allowed in this context")
			}
			p.rollIndent(p.col, -1, tokBlockMappingStart, p.mark())
		}
		p.simpleKeyAllowed = p.flowLevel == 0
	}
	p.pushIndicator(tokValue)
}

func (p *parser) fetchBlockScalar(literal bool) {
	p.removeSimpleKey()
	p.simpleKeyAllowed = true
	p.scanBlockScalar(literal)
}

func (p *parser) fetchFlowScalar(single bool) {
	p.saveSimpleKey()
	p.simpleKeyAllowed = false
	p.scanFlowScalar(single)
}

func (p *parser) fetchPlainScalar() {
	p.saveSimpleKey()
	p.simpleKeyAllowed = false
	p.scanPlainScalar()
}

func (p *parser) scanToNextToken() {
	buf := p.buf
	for {
		pos, col := p.pos, p.col
		for {
			c := buf[pos]
			if c == ' ' || (c == '\t' && (p.flowLevel > 0 || !p.simpleKeyAllowed)) {
				pos++
				col++
				continue
			}
			break
		}
		p.pos, p.col = pos, col
		if buf[pos] == '#' {
			p.scanComments()
		}
		if isBreak(buf[p.pos]) {
			p.skipLine()
			if p.flowLevel == 0 {
				p.simpleKeyAllowed = true
			}
		} else {
			break
		}
	}
}

// scanComments consumes the comment at the current position and, like
// yaml.v3, the comments that follow it on later lines when only blank
// lines (spaces and tabs allowed) separate them and the gap is under 512
// bytes.
func (p *parser) scanComments() {
	buf := p.buf
	for peek := 0; peek < 512; peek++ {
		c := buf[p.pos+peek]
		if c == ' ' || c == '\t' {
			continue
		}
		if c == '\r' || c == '\n' {
			continue
		}
		if c != '#' {
			break // includes the end of input and, in flow context, ']' and '}'
		}
		// Consume the gap up to the '#', then the comment.
		end := p.pos + peek
		for p.pos < end {
			if isBreak(buf[p.pos]) {
				p.skipLine()
			} else {
				p.pos++
				p.col++
			}
		}
		p.skipToBreak()
		peek = 0
	}
}

// scanLineComment consumes a comment that follows a token on the same line
// (yaml_parser_scan_line_comment). fetchNextToken has it inline; this one
// serves block scalar headers.
func (p *parser) scanLineComment() {
	if p.newlines > 0 {
		return
	}
	buf := p.buf
	for peek := 0; peek < 512; peek++ {
		c := buf[p.pos+peek]
		if c == ' ' || c == '\t' {
			continue
		}
		if c == '#' {
			p.pos += peek
			p.col += peek
			p.skipToBreak()
		}
		break
	}
}
