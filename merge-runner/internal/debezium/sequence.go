package debezium

import (
	"cmp"
	"strconv"
)

// Sequence is the PostgreSQL connector's source.sequence: the LSN of the
// last transaction committed before the event's transaction, and the
// event's own LSN (io.debezium.connector.postgresql.SourceInfo#sequence,
// ["<lastCommitLsn>","<lsn>"], each element null when unknown).
//
// The connector reads changes from the replication slot in commit order
// (logical decoding emits a transaction whole, when it commits), and the
// last-commit LSN is updated at every COMMIT it reads
// (PostgresStreamingChangeEventSource#commitMessage). So it grows from one
// transaction to the next, and within a transaction the change LSNs grow:
// (LastCommitLSN, LSN) ordered lexicographically is the source's commit
// order, even when transactions interleave in the WAL (a transaction that
// commits later may hold lower change LSNs). The change LSN or txId alone
// is not.
type Sequence struct {
	// LastCommitLSN is 0 when the connector wrote null (no commit seen yet:
	// the initial snapshot and the first transaction after it).
	LastCommitLSN int64
	LSN           int64
	// Valid is false when the event carries no sequence.
	Valid bool
}

// Compare orders sequences by (LastCommitLSN, LSN): -1, 0 or +1. A null
// last-commit LSN (an initial snapshot's reads, which see every commit
// before their LSN, and the first transaction after them) counts as the
// event's own LSN, so that a new snapshot taken after earlier streaming
// (the connector's offsets reset) orders after what it saw, not first.
func (s Sequence) Compare(o Sequence) int {
	if c := cmp.Compare(s.commit(), o.commit()); c != 0 {
		return c
	}
	return cmp.Compare(s.LSN, o.LSN)
}

func (s Sequence) commit() int64 {
	if s.LastCommitLSN == 0 {
		return s.LSN
	}
	return s.LastCommitLSN
}

// String renders the sequence as the connector does, without the quotes:
// [lastCommitLsn,lsn], null for an unknown element.
func (s Sequence) String() string {
	if !s.Valid {
		return "none"
	}
	el := func(n int64) string {
		if n == 0 {
			return "null"
		}
		return strconv.FormatInt(n, 10)
	}
	return "[" + el(s.LastCommitLSN) + "," + el(s.LSN) + "]"
}

// parseSequence reads source.sequence: a string (or null) holding a JSON
// array of two strings or nulls, each a decimal LSN.
func parseSequence(s *scanner) (Sequence, error) {
	if null, err := s.isNull(); null || err != nil {
		return Sequence{}, err
	}
	if seq, n, ok := quickSequence(s.b[s.i:]); ok {
		s.i += n
		return seq, nil
	}
	text, err := s.str()
	if err != nil {
		return Sequence{}, err
	}
	var in scanner
	in.reset(text)
	in.ws()
	bad := func() (Sequence, error) {
		return Sequence{}, eventErr("source.sequence %q is not [\"<last commit LSN>\",\"<LSN>\"]", truncate(text))
	}
	more, err := in.arrStart()
	if err != nil || !more {
		return bad()
	}
	var lsns [2]int64
	for i := 0; ; i++ {
		if i == 2 {
			return bad()
		}
		if null, err := in.isNull(); err != nil {
			return bad()
		} else if !null {
			d, err := in.str()
			if err != nil {
				return bad()
			}
			n, ok := parseInt(d)
			if !ok || n < 0 {
				return bad()
			}
			lsns[i] = n
		}
		if more, err = in.arrNext(); err != nil {
			return bad()
		}
		if !more {
			if i != 1 {
				return bad()
			}
			break
		}
	}
	if err := in.end(); err != nil {
		return bad()
	}
	return Sequence{LastCommitLSN: lsns[0], LSN: lsns[1], Valid: true}, nil
}

// quickSequence reads the form every event carries, "[\"<digits>\",\"<digits>\"]"
// with either element possibly null, straight from the bytes (the general
// path unescapes the string first, which costs on every event); n is the
// bytes read. Anything else is left to the general path.
func quickSequence(b []byte) (Sequence, int, bool) {
	i := 0
	lit := func(w string) bool {
		if len(b)-i >= len(w) && string(b[i:i+len(w)]) == w {
			i += len(w)
			return true
		}
		return false
	}
	elem := func() (int64, bool) {
		if lit("null") {
			return 0, true
		}
		if !lit(`\"`) {
			return 0, false
		}
		start := i
		var n int64
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 18 {
			n = n*10 + int64(b[i]-'0')
			i++
		}
		if i == start || !lit(`\"`) {
			return 0, false
		}
		return n, true
	}
	if !lit(`"[`) {
		return Sequence{}, 0, false
	}
	c, ok := elem()
	if !ok || !lit(",") {
		return Sequence{}, 0, false
	}
	l, ok := elem()
	if !ok || !lit(`]"`) {
		return Sequence{}, 0, false
	}
	return Sequence{LastCommitLSN: c, LSN: l, Valid: true}, i, true
}
