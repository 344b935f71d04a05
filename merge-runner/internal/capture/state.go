package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// State is what the capture has landed, stored at StateKey after every
// landing and before the slot is told: the slot never forgets a change the
// landing has not got.
//
// The offset rule: NextOffset is the offset of the first event after
// ConfirmedLSN. Objects landed after the state was last written (a crash
// between landing and the state) are landed again on restart, at the same
// offsets with the same lines, because the slot sends again exactly the
// transactions committed after ConfirmedLSN and their encoding depends only
// on them (the payload's ts_ms is the commit time, not the clock). The merge
// skips a repeated offset whose line is equal. The one exception is an
// initial snapshot that did not finish: its rows cannot be read again, so
// the slot is dropped and made again, and the new snapshot lands after
// every offset already landed, behind a truncate of each table that had
// events landed (a row the unfinished snapshot read may have been deleted
// before the new one, which then has no event for it).
type State struct {
	Slot string `json:"slot"`
	// ConfirmedLSN is the end of the last transaction landed (PostgreSQL's
	// X/Y form): what the slot is told it may forget.
	ConfirmedLSN string `json:"confirmed_lsn"`
	// LastCommitLSN is the LSN of the last commit read, the first element
	// of the next event's source.sequence (0: none yet).
	LastCommitLSN int64 `json:"last_commit_lsn"`
	// NextOffset is the offset of the next event per topic.
	NextOffset map[string]int64 `json:"next_offset"`
	// SnapshotDone is whether the initial snapshot has landed whole.
	SnapshotDone bool `json:"snapshot_done"`
}

// StateKey is where the capture of slot keeps its state.
func StateKey(prefix, slot string) string {
	return path.Join(strings.Trim(prefix, "/"), "_capture", slot, "state.json")
}

// ReadState reads the state; a missing one is the zero State.
func ReadState(ctx context.Context, st landing.Store, key string) (*State, error) {
	rc, err := st.Open(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{NextOffset: map[string]int64{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capture state %s: %w", key, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("capture state %s: %w", key, err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, &StateError{Key: key, Reason: "not a capture state: " + err.Error()}
	}
	if s.NextOffset == nil {
		s.NextOffset = map[string]int64{}
	}
	return &s, nil
}

func writeState(ctx context.Context, w landing.Writer, key string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return w.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
}

// StateError is a state object the capture cannot continue from.
type StateError struct{ Key, Reason string }

func (e *StateError) Error() string { return "capture state " + e.Key + ": " + e.Reason }
