package yamlnode

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// Parse parses one YAML document. An empty document yields a nil node.
//
// It accepts the YAML subset model files use and produces the same trees
// (kinds, styles, values, lines and columns) as go.yaml.in/yaml/v3 does for
// that subset. Anchors, aliases, tags, directives, complex keys and more
// than one document are refused: the model is plain data. Parse is safe for
// concurrent use.
func Parse(file string, data []byte) (n *Node, err error) {
	var r Parser
	return r.Parse(file, data)
}

// Parser parses documents one after another, reusing its memory: the tree a
// call returns (nodes and the strings pointing into its copy of the input)
// is valid only until the next call. The model loader decodes each tree and
// copies the strings it keeps before parsing the next file, which saves
// most of the parsing's allocation on large models. A Parser is not safe for
// concurrent use; use one per goroutine.
//
// MaxDepth and MaxScalar, when positive, are limits beyond yaml.v3's own:
// a document whose mappings and lists nest more than MaxDepth deep, or with
// a scalar (a key or a value) of more than MaxScalar bytes, is refused with
// an Error whose Limit says which, at the collection or scalar that passes it.
type Parser struct {
	MaxDepth  int
	MaxScalar int

	p parser
}

// The limits an Error can report.
const (
	LimitDepth = "depth"
	LimitText  = "text"
)

// Parse parses one document, as the package's Parse does.
func (r *Parser) Parse(file string, data []byte) (n *Node, err error) {
	old := &r.p
	r.p = parser{file: file, buf: old.buf, tokens: old.tokens, mask: old.mask, simpleKeys: old.simpleKeys, keyByTok: old.keyByTok,
		indents: old.indents, stack: old.stack, sb: old.sb, strs: old.strs[:0], spare: old.spare, sparePtrs: old.sparePtrs,
		maxDepth: r.MaxDepth, maxScalar: r.MaxScalar}
	p := &r.p
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(parseError)
			if !ok {
				panic(r)
			}
			n, err = nil, e.err
		}
	}()
	p.init(data)
	return p.parseStream(), nil
}

// parseError carries an *Error through a panic to Parse.
type parseError struct{ err *Error }

// padding is the number of NUL bytes after the input; the scanner looks
// ahead up to four bytes without bounds checks.
const padding = 8

type parser struct {
	file string
	buf  []byte // private copy of the input after any BOM, then padding

	// scanner position
	pos   int
	line  int // 0-based
	col   int // 0-based, in characters
	extra int // UTF-8 continuation bytes before pos; index = pos - extra

	tokens              []token // ring buffer, len a power of two
	mask                int
	head                int // tokens handed to the parser (tokens_parsed)
	tail                int // tokens queued so far
	tokenAvailable      bool
	streamStartProduced bool

	indent           int
	indents          []int
	flowLevel        int
	simpleKeyAllowed bool
	simpleKeys       []simpleKey
	keyByTok         []keyTok
	newlines         int

	sb   []byte   // scratch for scalars that need building
	strs []string // built scalar values, indexed by token.voff

	// node allocation
	chunks []*[nodeChunk]Node
	chunk  *[nodeChunk]Node // the last chunk
	base   int              // id of chunk[0]
	used   int              // nodes used in chunk
	ptrs   []*Node
	stack  []nid

	// Memory kept for the next document (Parser).
	spare     []*[nodeChunk]Node
	sparePtrs [][]*Node
	nptr      int

	depth, maxDepth int // collections open; the limit (0: none)
	maxScalar       int // bytes in one scalar (0: no limit)
}

// Nodes and Content slices are carved from chunks small enough (32 KiB) to
// be allocated from the per-P caches and to stay in cache while they fill.
const (
	nodeChunk = 512
	ptrChunk  = 4096
)

func (p *parser) init(data []byte) {
	if len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
		p.refuseAt(1, 1, "UTF-16 encoded files are not supported in model files; save the file as UTF-8")
	}
	if len(data) > math.MaxInt32/2 {
		p.refuseAt(1, 1, "files larger than 1 GiB are not supported in model files")
	}
	src := data
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		src = src[3:] // a byte order mark is skipped; positions do not count it
	}
	p.validate(src)
	var pad [padding]byte
	p.buf = append(append(p.buf[:0], src...), pad[:]...)
	if p.tokens == nil {
		p.tokens = make([]token, 16)
		p.mask = 15
	}
	p.simpleKeys = p.simpleKeys[:0]
	p.keyByTok = p.keyByTok[:0]
	p.indents = p.indents[:0]
	p.stack = p.stack[:0]
	p.used = nodeChunk
}

// validate applies yaml.v3's reader checks (well-formed UTF-8, no control
// characters) to the whole input, and refuses the characters whose yaml.v3
// handling is too quirky to mirror: a byte order mark after the start and
// the Unicode line separators NEL, LS and PS.
func (p *parser) validate(src []byte) {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(src); {
		// Skip eight printable ASCII characters (0x20-0x7E) at a time.
		if i+8 <= len(src) {
			w := binary.LittleEndian.Uint64(src[i:])
			if (w-lo*0x20)&^w&hi == 0 && (w+lo*(0x7F-0x7E)|w)&hi == 0 {
				i += 8
				continue
			}
		}
		c := src[i]
		if c < 0x80 {
			if c >= 0x20 && c != 0x7F || c == '\n' || c == '\r' || c == '\t' {
				i++
				continue
			}
			p.readerError(src, i, fmt.Sprintf("control character 0x%02X is not allowed in YAML", c))
		}
		r, w := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && w <= 1 {
			p.readerError(src, i, "invalid UTF-8; save the file as UTF-8")
		}
		switch {
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			p.readerError(src, i, fmt.Sprintf("the Unicode line separator U+%04X is not supported in model files; use a plain line break", r))
		case r == 0xFEFF:
			p.readerError(src, i, "a byte order mark (U+FEFF) is not supported in model files except at the very start of the file")
		case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		default:
			p.readerError(src, i, fmt.Sprintf("control character U+%04X is not allowed in YAML", r))
		}
		i += w
	}
}

// readerError reports a problem with the character at byte offset off.
func (p *parser) readerError(src []byte, off int, msg string) {
	line, col := 1, 1
	for i := 0; i < off; {
		c := src[i]
		switch {
		case c == '\n' || c == '\r' && (i+1 >= len(src) || src[i+1] != '\n'):
			line++
			col = 1
			i++
		case c == '\r':
			i++
		default:
			_, w := utf8.DecodeRune(src[i:])
			col++
			i += w
		}
	}
	panic(parseError{&Error{File: p.file, Line: line, Column: col, Msg: msg}})
}

func (p *parser) refuseAt(line, col int, msg string) {
	panic(parseError{&Error{File: p.file, Line: line, Column: col, Msg: msg}})
}

// refuse reports a construct outside the subset model files use.
func (p *parser) refuse(m mark, msg string) {
	p.refuseAt(int(m.line)+1, int(m.column)+1, msg)
}

// scannerError reports a scanner error the way yaml.v3 positions it: on
// the line of the context mark when that is not the first line, else on
// the line of the problem (the current position).
func (p *parser) scannerError(context string, contextMark mark, problem string) {
	problemMark := p.mark()
	line, col := 1, 1
	switch {
	case contextMark.line != 0:
		line, col = int(contextMark.line)+1, int(contextMark.column)+1
	case problemMark.line != 0:
		line, col = int(problemMark.line)+1, int(problemMark.column)+1
	case context != "":
		col = int(contextMark.column) + 1
	default:
		col = int(problemMark.column) + 1
	}
	msg := problem
	if context != "" && contextMark != problemMark {
		msg = fmt.Sprintf("%s (%s at line %d, column %d; found at line %d, column %d)", problem, context,
			contextMark.line+1, contextMark.column+1, problemMark.line+1, problemMark.column+1)
	} else if context != "" {
		msg = fmt.Sprintf("%s (%s)", problem, context)
	}
	panic(parseError{&Error{File: p.file, Line: line, Column: col, Msg: msg}})
}

// parserError reports a parser error at the place a reader has to look.
// For a flow collection that is the opening '[' or '{' (contextMark): the
// parser gives up where it finds neither ',' nor the closing bracket, which
// for a bracket left open is the next line or the end of the file, far from
// the mistake. For anything else it is the token the parser could not take
// (problemMark); the context there is the start of the enclosing
// collection, which can be the first line of the file.
//
// yaml.v3 positions these errors differently: parser#fail (decode.go)
// prints the 0-based line of the context mark (of the problem mark when the
// context is on the first line) as if it were 1-based, so its parser errors
// name the line before the one meant. The message gives both positions.
func (p *parser) parserError(context string, contextMark mark, problem string, problemMark mark) {
	at := problemMark
	var msg string
	switch context {
	case "while parsing a flow sequence", "while parsing a flow mapping":
		at = contextMark
		open, close := "[", "]"
		if context == "while parsing a flow mapping" {
			open, close = "{", "}"
		}
		msg = fmt.Sprintf("%s: the '%s' at line %d, column %d is not closed, or two of its entries have no ',' between them "+
			"(the parser stopped at line %d, column %d); add the missing '%s' or ','", problem, open,
			contextMark.line+1, contextMark.column+1, problemMark.line+1, problemMark.column+1, close)
	case "":
		msg = fmt.Sprintf("%s (found at line %d, column %d)", problem, problemMark.line+1, problemMark.column+1)
	default:
		msg = fmt.Sprintf("%s (%s that starts at line %d, column %d; found at line %d, column %d)", problem, context,
			contextMark.line+1, contextMark.column+1, problemMark.line+1, problemMark.column+1)
	}
	panic(parseError{&Error{File: p.file, Line: int(at.line) + 1, Column: int(at.column) + 1, Msg: msg}})
}

// nid identifies a node by its index in the node chunks. The parser keeps
// ids rather than pointers on its stack: pushing ids needs no GC write
// barriers.
type nid uint32

// newNode allocates a node from the current chunk.
func (p *parser) newNode(kind Kind, style Style, m mark) (nid, *Node) {
	if p.used == nodeChunk {
		p.newChunk()
	}
	n := &p.chunk[p.used&(nodeChunk-1)]
	n.Kind, n.Style, n.Line, n.Column = kind, style, m.line+1, m.column+1
	p.used++
	return nid(p.base + p.used - 1), n
}

//go:noinline
func (p *parser) newChunk() {
	if len(p.chunks) < len(p.spare) {
		p.chunk = p.spare[len(p.chunks)]
		clear(p.chunk[:])
	} else {
		p.chunk = new([nodeChunk]Node)
		p.spare = append(p.spare, p.chunk)
	}
	p.chunks = append(p.chunks, p.chunk)
	p.base = (len(p.chunks) - 1) * nodeChunk
	p.used = 0
}

func (p *parser) node(id nid) *Node {
	return &p.chunks[id/nodeChunk][id%nodeChunk]
}

func (p *parser) scalarNode(t *token) nid {
	id, n := p.newNode(ScalarNode, t.style, t.start)
	if t.vlen != 0 {
		n.Value = p.tokenValue(t)
	}
	return id
}

func (p *parser) emptyScalar(m mark) nid {
	id, _ := p.newNode(ScalarNode, Plain, m)
	return id
}

// setContent moves the nodes pushed on the stack since base into the
// Content of node id, a slice carved from the pointer slab.
func (p *parser) setContent(id nid, base int) {
	n := len(p.stack) - base
	if n == 0 {
		return
	}
	if cap(p.ptrs)-len(p.ptrs) < n {
		size := ptrChunk
		if size < n {
			size = n
		}
		if size == ptrChunk && p.nptr < len(p.sparePtrs) {
			p.ptrs = p.sparePtrs[p.nptr][:0]
		} else {
			p.ptrs = make([]*Node, 0, size)
			if size == ptrChunk {
				p.sparePtrs = append(p.sparePtrs, p.ptrs)
			}
		}
		p.nptr++
	}
	l := len(p.ptrs)
	for _, c := range p.stack[base:] {
		p.ptrs = append(p.ptrs, p.node(c))
	}
	p.stack = p.stack[:base]
	p.node(id).Content = p.ptrs[l : l+n : l+n]
}

// parseStream mirrors the yaml.v3 parser states from the stream start to
// the end of the first document, then checks that nothing but "..."
// follows (yaml.v3 would read a second document there).
func (p *parser) parseStream() *Node {
	p.peek() // STREAM-START
	p.skipToken()

	t := p.peek()
	if t.typ == tokStreamEnd {
		return nil
	}
	var root nid
	if t.typ != tokDocumentStart {
		root = p.parseNode(true, false)
	} else {
		p.skipToken()
		t = p.peek()
		switch t.typ {
		case tokDocumentStart, tokDocumentEnd, tokStreamEnd:
			root = p.emptyScalar(t.start)
		default:
			root = p.parseNode(true, false)
		}
	}

	t = p.peek()
	for t.typ == tokDocumentEnd {
		p.skipToken()
		t = p.peek()
	}
	switch t.typ {
	case tokStreamEnd:
	case tokDocumentStart:
		p.refuse(t.start, "more than one YAML document is not supported in model files; remove the extra '---' document")
	default:
		p.parserError("", mark{}, "did not find expected <document start>; the document has ended, only comments may follow", t.start)
	}
	return p.node(root)
}

// parseNode mirrors yaml_parser_parse_node.
func (p *parser) parseNode(block, indentlessSequence bool) nid {
	t := p.peek()
	if t.typ == tokScalar {
		n := p.scalarNode(t)
		p.skipToken()
		return n
	}
	var n nid
	switch start := t.start; {
	case indentlessSequence && t.typ == tokBlockEntry:
		p.enter(start)
		n = p.parseIndentlessSequence(start)
	case t.typ == tokFlowSequenceStart:
		p.enter(start)
		n = p.parseFlowSequence()
	case t.typ == tokFlowMappingStart:
		p.enter(start)
		n = p.parseFlowMapping()
	case block && t.typ == tokBlockSequenceStart:
		p.enter(start)
		n = p.parseBlockSequence()
	case block && t.typ == tokBlockMappingStart:
		p.enter(start)
		n = p.parseBlockMapping()
	default:
		context := "while parsing a flow node"
		if block {
			context = "while parsing a block node"
		}
		p.parserError(context, t.start, "did not find expected node content", t.start)
	}
	p.depth--
	return n
}

// enter counts one more level of collections nested inside each other,
// refusing the one that passes the parser's depth limit. The parser
// recurses once per level: the limit bounds its stack and the decoder's.
func (p *parser) enter(m mark) {
	p.depth++
	if p.maxDepth > 0 && p.depth > p.maxDepth {
		panic(parseError{&Error{File: p.file, Line: int(m.line) + 1, Column: int(m.column) + 1, Limit: LimitDepth,
			Msg: fmt.Sprintf("mappings and lists nest more than %d deep here, the limit for a model file", p.maxDepth)}})
	}
}

// textLimit refuses a scalar of n bytes that starts at m when it passes the
// parser's limit for one value.
func (p *parser) textLimit(m mark, n int) {
	if p.maxScalar > 0 && n > p.maxScalar {
		panic(parseError{&Error{File: p.file, Line: int(m.line) + 1, Column: int(m.column) + 1, Limit: LimitText,
			Msg: fmt.Sprintf("this value is %d bytes long, more than the %d bytes a value in a model file may have", n, p.maxScalar)}})
	}
}

func (p *parser) parseBlockSequence() nid {
	t := p.peek()
	n, _ := p.newNode(SequenceNode, Plain, t.start)
	start := t.start
	p.skipToken()
	base := len(p.stack)
	for {
		t = p.peek()
		switch t.typ {
		case tokBlockEntry:
			m := t.endMark()
			p.skipToken()
			t = p.peek()
			var item nid
			if t.typ != tokBlockEntry && t.typ != tokBlockEnd {
				item = p.parseNode(true, false)
			} else {
				item = p.emptyScalar(m)
			}
			p.stack = append(p.stack, item)
		case tokBlockEnd:
			p.skipToken()
			p.setContent(n, base)
			return n
		default:
			p.parserError("while parsing a block collection", start, "did not find expected '-' indicator", t.start)
		}
	}
}

func (p *parser) parseIndentlessSequence(start mark) nid {
	n, _ := p.newNode(SequenceNode, Plain, start)
	base := len(p.stack)
	for {
		t := p.peek()
		if t.typ != tokBlockEntry {
			p.setContent(n, base)
			return n
		}
		m := t.endMark()
		p.skipToken()
		t = p.peek()
		var item nid
		switch t.typ {
		case tokBlockEntry, tokKey, tokValue, tokBlockEnd:
			item = p.emptyScalar(m)
		default:
			item = p.parseNode(true, false)
		}
		p.stack = append(p.stack, item)
	}
}

func (p *parser) parseBlockMapping() nid {
	t := p.peek()
	n, _ := p.newNode(MappingNode, Plain, t.start)
	start := t.start
	p.skipToken()
	base := len(p.stack)
	for {
		t = p.peek()
		var key nid
		switch t.typ {
		case tokKey:
			m := t.endMark()
			p.skipToken()
			t = p.peek()
			switch t.typ {
			case tokKey, tokValue, tokBlockEnd:
				key = p.emptyScalar(m)
			default:
				key = p.parseNode(true, true)
			}
		case tokBlockEnd:
			p.skipToken()
			p.setContent(n, base)
			return n
		default:
			p.parserError("while parsing a block mapping", start, "did not find expected key", t.start)
		}
		p.checkKey(key)
		p.stack = append(p.stack, key)

		var value nid
		t = p.peek()
		if t.typ == tokValue {
			m := t.endMark()
			p.skipToken()
			t = p.peek()
			switch t.typ {
			case tokKey, tokValue, tokBlockEnd:
				value = p.emptyScalar(m)
			default:
				value = p.parseNode(true, true)
			}
		} else {
			value = p.emptyScalar(t.start)
		}
		p.stack = append(p.stack, value)
	}
}

// checkKey refuses mapping keys that are collections.
func (p *parser) checkKey(id nid) {
	if key := p.node(id); key.Kind != ScalarNode {
		p.refuseAt(int(key.Line), int(key.Column), "complex mapping keys (a sequence or mapping used as a key) are not supported in model files; use a plain or quoted key")
	}
}

func (p *parser) parseFlowSequence() nid {
	t := p.peek()
	n, _ := p.newNode(SequenceNode, Flow, t.start)
	start := t.start
	p.skipToken()
	base := len(p.stack)
	first := true
	for {
		t = p.peek()
		if t.typ == tokFlowSequenceEnd {
			break
		}
		if !first {
			if t.typ != tokFlowEntry {
				p.parserError("while parsing a flow sequence", start, "did not find expected ',' or ']'", t.start)
			}
			p.skipToken()
			t = p.peek()
			if t.typ == tokFlowSequenceEnd {
				break
			}
		}
		first = false
		if t.typ == tokKey {
			p.stack = append(p.stack, p.parseFlowSequenceEntryMapping())
			continue
		}
		p.stack = append(p.stack, p.parseNode(false, false))
	}
	p.skipToken()
	p.setContent(n, base)
	return n
}

// parseFlowSequenceEntryMapping parses a single-pair mapping inside a flow
// sequence ("[a: b]"); the head token is the KEY.
func (p *parser) parseFlowSequenceEntryMapping() nid {
	t := p.peek()
	p.enter(t.start)
	n, _ := p.newNode(MappingNode, Flow, t.start)
	p.skipToken()
	base := len(p.stack)

	var key nid
	t = p.peek()
	switch t.typ {
	case tokValue, tokFlowEntry, tokFlowSequenceEnd:
		// yaml.v3 consumes the token here, whatever it is.
		m := t.endMark()
		p.skipToken()
		key = p.emptyScalar(m)
	default:
		key = p.parseNode(false, false)
	}
	p.checkKey(key)
	p.stack = append(p.stack, key)

	var value nid
	t = p.peek()
	if t.typ == tokValue {
		m := t.start
		p.skipToken()
		t = p.peek()
		if t.typ == tokFlowEntry || t.typ == tokFlowSequenceEnd {
			// yaml.v3 positions this empty value through a pointer into its
			// token queue that may meanwhile have been reused; the position
			// it reports cannot be mirrored reliably.
			p.refuse(m, "an empty value in a single-pair mapping inside a flow sequence ('[key: ]') is not supported in model files; write '[{key: }]' or give the value")
		}
		value = p.parseNode(false, false)
	} else {
		value = p.emptyScalar(t.start)
	}
	p.stack = append(p.stack, value)
	p.setContent(n, base)
	p.depth--
	return n
}

func (p *parser) parseFlowMapping() nid {
	t := p.peek()
	n, _ := p.newNode(MappingNode, Flow, t.start)
	start := t.start
	p.skipToken()
	base := len(p.stack)
	first := true
	for {
		t = p.peek()
		if t.typ == tokFlowMappingEnd {
			break
		}
		if !first {
			if t.typ != tokFlowEntry {
				p.parserError("while parsing a flow mapping", start, "did not find expected ',' or '}'", t.start)
			}
			p.skipToken()
			t = p.peek()
			if t.typ == tokFlowMappingEnd {
				break
			}
		}
		first = false
		var key, value nid
		if t.typ == tokKey {
			p.skipToken()
			t = p.peek()
			switch t.typ {
			case tokValue, tokFlowEntry, tokFlowMappingEnd:
				key = p.emptyScalar(t.start)
			default:
				key = p.parseNode(false, false)
			}
			p.checkKey(key)
			t = p.peek()
			have := false
			if t.typ == tokValue {
				p.skipToken()
				t = p.peek()
				if t.typ != tokFlowEntry && t.typ != tokFlowMappingEnd {
					value = p.parseNode(false, false)
					have = true
				}
			}
			if !have {
				value = p.emptyScalar(t.start)
			}
		} else {
			key = p.parseNode(false, false)
			p.checkKey(key)
			value = p.emptyScalar(p.peek().start)
		}
		p.stack = append(p.stack, key, value)
	}
	p.skipToken()
	p.setContent(n, base)
	return n
}
