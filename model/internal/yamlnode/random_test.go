package yamlnode

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// soupPieces are fragments that random documents are assembled from; they
// favour the characters that matter to YAML's structure.
var soupPieces = []string{
	"a", "b c", "key", "k2", "x:y", "http://h:9000/p", "decimal(10,2)", "varchar(20)", "é", "~", "null", "1",
	": ", ":", "- ", "-", "--", "? ", "?",
	"\n", "\n", "\n", "\n  ", "\n    ", "\n- ", "\n  - ", "\r\n", "\r",
	" ", "  ", "\t", " \t",
	"#c", " # c", " #",
	"[", "]", "{", "}", ", ", ",",
	"'q'", "'", "''", "\"d\"", "\"", "\\", "\\n", "\\\n",
	"|", ">", "|-", ">+", "|2", "\n   l", "\n  l",
	"---", "...", "\n---\n", "\n...\n",
	"&a ", "*a", "!t ", "%", "@", "`",
	"\t#", "\n\t# c\n", "\\x4", "\\u00e", "\\U0001F60", "\\\t", "\\ ",
}

// soupRare are pieces that hit limits (the 512-byte comment lookahead, the
// 1024-character simple key); they are used sparingly.
var soupRare = []string{
	strings.Repeat(" ", 520), strings.Repeat(" ", 505), strings.Repeat("\n", 260) + "#c",
	strings.Repeat("x", 1030), strings.Repeat("x", 1015), strings.Repeat("y ", 512),
}

func soupDocument(r *rand.Rand) string {
	var b strings.Builder
	n := 1 + r.IntN(24)
	for i := 0; i < n; i++ {
		if r.IntN(40) == 0 {
			b.WriteString(soupRare[r.IntN(len(soupRare))])
			continue
		}
		b.WriteString(soupPieces[r.IntN(len(soupPieces))])
	}
	return b.String()
}

// structuredDocument writes a mostly valid document with random styles,
// indentation and comments.
func structuredDocument(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(8) == 0 {
		b.WriteString("---\n")
	}
	writeBlockMapping(r, &b, 0, 3)
	if r.IntN(8) == 0 {
		b.WriteString("...\n")
	}
	return b.String()
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randScalar(r *rand.Rand, flow bool) string {
	switch r.IntN(12) {
	case 0:
		return "'" + pick(r, "a b", "it''s", "", "x: y", "a,b", "multi\n  line") + "'"
	case 1:
		return "\"" + pick(r, "a\\tb", "\\u00e9", "", "q\\\"q", "x\\\n  y", "two\n\n  lines") + "\""
	case 2:
		return pick(r, "~", "null", "true", "12", "-3.5")
	case 3:
		if flow {
			return pick(r, "'decimal(10,2)'", "x:y", "a b")
		}
		return pick(r, "decimal(10,2)", "http://x:9000/a", "a #b", "a b  c")
	}
	return pick(r, "a", "name", "c1", "varchar(20)", "some words here", "é")
}

func randIndent(r *rand.Rand) int { return pick(r, 1, 2, 2, 2, 3, 4) }

func writeBlockMapping(r *rand.Rand, b *strings.Builder, indent, depth int) {
	n := 1 + r.IntN(4)
	for i := 0; i < n; i++ {
		if r.IntN(6) == 0 {
			b.WriteString(strings.Repeat(" ", r.IntN(indent+3)) + "# comment\n")
		}
		if r.IntN(8) == 0 {
			b.WriteString("\n")
		}
		b.WriteString(strings.Repeat(" ", indent))
		b.WriteString(pick(r, "k", "key", "'q k'", "\"d k\"", "long key") + strconv.Itoa(i) + ":")
		writeValue(r, b, indent, depth)
	}
}

func writeValue(r *rand.Rand, b *strings.Builder, indent, depth int) {
	switch k := r.IntN(10); {
	case k < 3 || depth == 0:
		if r.IntN(6) == 0 {
			b.WriteString("\n")
			return
		}
		b.WriteString(" " + randScalar(r, false))
		if r.IntN(5) == 0 {
			b.WriteString(" # c")
		}
		b.WriteString("\n")
	case k < 5:
		b.WriteString("\n")
		writeBlockMapping(r, b, indent+randIndent(r), depth-1)
	case k < 7:
		b.WriteString("\n")
		in := indent + pick(r, 0, 2, 4)
		n := 1 + r.IntN(3)
		for i := 0; i < n; i++ {
			b.WriteString(strings.Repeat(" ", in) + "-")
			switch r.IntN(4) {
			case 0:
				b.WriteString(" " + randScalar(r, false) + "\n")
			case 1:
				b.WriteString(" " + randFlow(r, 2) + "\n")
			case 2:
				b.WriteString(" k: " + randScalar(r, false) + "\n")
				b.WriteString(strings.Repeat(" ", in+2) + "k2: " + randScalar(r, false) + "\n")
			default:
				b.WriteString("\n")
				writeBlockMapping(r, b, in+randIndent(r), depth-1)
			}
		}
	case k < 9:
		b.WriteString(" " + randFlow(r, 3) + "\n")
	default:
		b.WriteString(" " + pick(r, "|", ">", "|-", ">+", "|2", ">-") + "\n")
		in := indent + randIndent(r)
		for i := 0; i < 1+r.IntN(3); i++ {
			b.WriteString(strings.Repeat(" ", in+pick(r, 0, 0, 1)) + pick(r, "text", "more text", "") + "\n")
		}
	}
}

func randFlow(r *rand.Rand, depth int) string {
	var b strings.Builder
	n := r.IntN(4)
	sep := pick(r, ", ", ",", ",\n  ", " , ")
	if r.IntN(2) == 0 {
		b.WriteString("[")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			if depth > 0 && r.IntN(4) == 0 {
				b.WriteString(randFlow(r, depth-1))
			} else {
				b.WriteString(randScalar(r, true))
			}
		}
		if n > 0 && r.IntN(5) == 0 {
			b.WriteString(",")
		}
		b.WriteString("]")
		return b.String()
	}
	b.WriteString("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(pick(r, "name", "type", "'k'", "k") + strconv.Itoa(i))
		switch r.IntN(5) {
		case 0:
		case 1:
			b.WriteString(":")
		default:
			b.WriteString(": ")
			if depth > 0 && r.IntN(4) == 0 {
				b.WriteString(randFlow(r, depth-1))
			} else {
				b.WriteString(randScalar(r, true))
			}
		}
	}
	if n > 0 && r.IntN(5) == 0 {
		b.WriteString(",")
	}
	b.WriteString("}")
	return b.String()
}

// mutate applies a few random edits to a document.
func mutate(r *rand.Rand, doc string) string {
	for k := 1 + r.IntN(3); k > 0; k-- {
		at := 0
		if len(doc) > 0 {
			at = r.IntN(len(doc) + 1)
		}
		switch r.IntN(5) {
		case 0, 1:
			doc = doc[:at] + soupPieces[r.IntN(len(soupPieces))] + doc[at:]
		case 2:
			end := min(len(doc), at+1+r.IntN(4))
			doc = doc[:at] + doc[end:]
		case 3:
			lines := strings.Split(doc, "\n")
			i := r.IntN(len(lines))
			lines[i] = pick(r, " ", "  ", "\t", "- ", "") + strings.TrimLeft(lines[i], pick(r, " ", ""))
			doc = strings.Join(lines, "\n")
		default:
			lines := strings.Split(doc, "\n")
			i, j := r.IntN(len(lines)), r.IntN(len(lines))
			lines = append(lines[:i], append([]string{lines[j]}, lines[i:]...)...)
			doc = strings.Join(lines, "\n")
		}
	}
	return doc
}

// TestRandomDocuments compares Parse with the reference on generated
// documents. YAMLNODE_RANDOM=n raises the number of documents.
func TestRandomDocuments(t *testing.T) {
	n := 3000
	if s := os.Getenv("YAMLNODE_RANDOM"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	seed := uint64(1)
	if s := os.Getenv("YAMLNODE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	for i := 0; i < n; i++ {
		var doc string
		switch i % 3 {
		case 0:
			doc = soupDocument(r)
		case 1:
			doc = structuredDocument(r)
		default:
			doc = mutate(r, structuredDocument(r))
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkAgainstReference(t, []byte(doc)) })
		if t.Failed() {
			return
		}
	}
}
