package landing

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
)

const topic = "acme.customer_db.public.customers"

// put writes an object into the local store's folder.
func put(t *testing.T, root, key string, data []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(key))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}

// landed is the key the S3 sink gives a file.
func landed(part int, start int64, gz bool) string {
	key := fmt.Sprintf("cdc/%s/partition=%d/%s+%d+%010d.json", topic, part, topic, part, start)
	if gz {
		key += ".gz"
	}
	return key
}

// lines renders n event lines numbered from first, as JSON.
func lines(first, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{\"n\":%d}\n", first+i)
	}
	return b.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func TestParseName(t *testing.T) {
	good := []struct {
		key  string
		want File
	}{
		{"cdc/a.b.c/partition=0/a.b.c+0+0000000000.json", File{Topic: "a.b.c", Partition: 0, StartOffset: 0}},
		{"cdc/a.b.c/partition=12/a.b.c+12+0000012345.json.gz", File{Topic: "a.b.c", Partition: 12, StartOffset: 12345, Gzip: true}},
		{"a-b_c+3+9.json", File{Topic: "a-b_c", Partition: 3, StartOffset: 9}},
		{"x/other/t+1+99999999999.json", File{Topic: "t", Partition: 1, StartOffset: 99999999999}},
	}
	for _, g := range good {
		f, err := ParseName(g.key)
		require.NoError(t, err, g.key)
		g.want.Key = g.key
		assert.Equal(t, g.want, f)
	}
	bad := []struct{ key, reason string }{
		{"cdc/t/partition=0/t+0+0.avro", "is not <topic>+<partition>+<startOffset>.json[.gz]"},
		{"cdc/t/partition=0/t+0.json", "is not <topic>+<partition>+<startOffset>.json[.gz]"},
		{"cdc/t/partition=0/+0+0.json", "is not <topic>+<partition>+<startOffset>.json[.gz]"},
		{"cdc/t/partition=0/t+x+0.json", `has partition "x"`},
		{"cdc/t/partition=0/t+0+-1.json", `has start offset "-1"`},
		{"cdc/t/partition=0/t+0+.json", `has start offset ""`},
		{"cdc/t/partition=0/t+99999999999+0.json", `has partition "99999999999"`},
		{"cdc/t/partition=1/t+0+0.json", "landed object of partition 0 is in directory partition=1"},
		{"cdc/t/partition=0/readme.txt", "is not <topic>+<partition>+<startOffset>.json[.gz]"},
	}
	for _, b := range bad {
		_, err := ParseName(b.key)
		require.Error(t, err, b.key)
		be, ok := badinput.As(err)
		require.True(t, ok, b.key)
		assert.Equal(t, b.key, be.Object)
		assert.Contains(t, be.Reason, b.reason, b.key)
		assert.Contains(t, err.Error(), b.key)
	}
}

func TestListTopicOrdersAcrossPartitions(t *testing.T) {
	root := t.TempDir()
	keys := []string{
		"cdc/" + topic + "/partition=1/" + topic + "+1+0000000005.json",
		"cdc/" + topic + "/partition=0/" + topic + "+0+10.json",
		"cdc/" + topic + "/partition=0/" + topic + "+0+9.json",
		"cdc/" + topic + "/partition=0/" + topic + "+0+0000000000.json.gz",
		"cdc/" + topic + "/partition=2/" + topic + "+2+0.json",
		"cdc/" + topic + "/partition=10/" + topic + "+10+0.json",
		// Another topic with this one's name as a prefix is not listed.
		"cdc/" + topic + "_archive/partition=0/" + topic + "_archive+0+0.json",
	}
	for _, k := range keys {
		put(t, root, k, []byte("{}\n"))
	}
	files, err := ListTopic(context.Background(), NewLocalStore(root), "cdc", topic)
	require.NoError(t, err)
	var got []string
	for _, f := range files {
		got = append(got, fmt.Sprintf("%d+%d", f.Partition, f.StartOffset))
		assert.Equal(t, int64(3), f.Size)
	}
	assert.Equal(t, []string{"0+0", "0+9", "0+10", "1+5", "2+0", "10+0"}, got)
	assert.True(t, files[0].Gzip)

	// An empty or missing topic lists nothing.
	files, err = ListTopic(context.Background(), NewLocalStore(root), "cdc", "acme.none")
	require.NoError(t, err)
	assert.Empty(t, files)
}

func TestListTopicBadObjects(t *testing.T) {
	cases := []struct {
		name   string
		keys   []string
		object string
		reason string
	}{
		{"a name that does not parse", []string{landed(0, 0, false), "cdc/" + topic + "/partition=0/notes.txt"},
			"cdc/" + topic + "/partition=0/notes.txt", "landed object name is not <topic>+<partition>+<startOffset>.json[.gz]"},
		{"another topic's object", []string{"cdc/" + topic + "/partition=0/other+0+0.json"},
			"cdc/" + topic + "/partition=0/other+0+0.json", "landed object of topic other is under topic " + topic},
		{"the same start offset twice", []string{landed(0, 5, false), landed(0, 5, true)},
			landed(0, 5, true), "another landed object has the same partition and start offset: " + landed(0, 5, false)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, k := range c.keys {
				put(t, root, k, []byte("{}\n"))
			}
			_, err := ListTopic(context.Background(), NewLocalStore(root), "cdc", topic)
			require.Error(t, err)
			be, ok := badinput.As(err)
			require.True(t, ok)
			assert.Equal(t, c.object, be.Object)
			assert.Equal(t, c.reason, be.Reason)
		})
	}
}

type got struct {
	Part   int32
	Offset int64
	Line   int
	Data   string
}

// readAll reads a partition reader to its end.
func readAll(t *testing.T, r *PartitionReader) []got {
	t.Helper()
	var out []got
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		out = append(out, got{rec.Partition, rec.Offset, rec.Line, string(rec.Data)})
	}
	require.NoError(t, r.Close())
	return out
}

func list(t *testing.T, root string) []File {
	t.Helper()
	files, err := ListTopic(context.Background(), NewLocalStore(root), "cdc", topic)
	require.NoError(t, err)
	return files
}

// partition is the files of one partition.
func partition(files []File, p int32) []File {
	var out []File
	for _, f := range files {
		if f.Partition == p {
			out = append(out, f)
		}
	}
	return out
}

// countingStore counts the objects opened.
type countingStore struct {
	Store
	opened []string
}

func (c *countingStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	c.opened = append(c.opened, key)
	return c.Store.Open(ctx, key)
}

func reader(t *testing.T, root string, p int32, next int64, lim Limits) (*PartitionReader, *countingStore) {
	t.Helper()
	st := &countingStore{Store: NewLocalStore(root)}
	return NewPartitionReader(context.Background(), st, partition(list(t, root), p), next, lim), st
}

func TestReaderSkipsAppliedPositions(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 0, false), lines(0, 3))
	put(t, root, landed(0, 3, true), gzipped(t, lines(3, 2)))
	put(t, root, landed(0, 5, false), lines(5, 2))

	cases := []struct {
		name    string
		next    int64
		want    []got
		skipped int64
		opened  []string
	}{
		{"from the start", 0, []got{
			{0, 0, 1, `{"n":0}`}, {0, 1, 2, `{"n":1}`}, {0, 2, 3, `{"n":2}`}, {0, 3, 1, `{"n":3}`}, {0, 4, 2, `{"n":4}`},
			{0, 5, 1, `{"n":5}`}, {0, 6, 2, `{"n":6}`},
		}, 0, []string{landed(0, 0, false), landed(0, 3, true), landed(0, 5, false)}},
		{"in the first object", 2, []got{
			{0, 2, 3, `{"n":2}`}, {0, 3, 1, `{"n":3}`}, {0, 4, 2, `{"n":4}`}, {0, 5, 1, `{"n":5}`}, {0, 6, 2, `{"n":6}`},
		}, 2, []string{landed(0, 0, false), landed(0, 3, true), landed(0, 5, false)}},
		// Objects before the one holding the position and the one before
		// it are not opened.
		{"in a later object", 4, []got{{0, 4, 2, `{"n":4}`}, {0, 5, 1, `{"n":5}`}, {0, 6, 2, `{"n":6}`}},
			4, []string{landed(0, 0, false), landed(0, 3, true), landed(0, 5, false)}},
		{"at an object's start", 5, []got{{0, 5, 1, `{"n":5}`}, {0, 6, 2, `{"n":6}`}}, 2, []string{landed(0, 3, true), landed(0, 5, false)}},
		{"all applied", 7, nil, 4, []string{landed(0, 3, true), landed(0, 5, false)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, st := reader(t, root, 0, c.next, Limits{})
			assert.Equal(t, c.want, readAll(t, r))
			assert.Equal(t, c.skipped, r.Skipped())
			assert.Equal(t, int64(7), r.Next())
			assert.Nil(t, r.Gap())
			assert.Equal(t, c.opened, st.opened)
		})
	}
}

func TestReaderNextAfterEachRecord(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 10, false), lines(0, 2))
	r, _ := reader(t, root, 0, 10, Limits{})
	assert.Equal(t, int64(10), r.Next())
	_, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, int64(11), r.Next())
	_, err = r.Read()
	require.NoError(t, err)
	assert.Equal(t, int64(12), r.Next())
	_, err = r.Read()
	assert.Equal(t, io.EOF, err)
}

// After a restart the S3 sink re-consumes from its last committed offset
// and may cut files at other offsets, so an object can repeat offsets an
// earlier object holds (Confluent's S3 sink: files are named by their first
// record's offset, exactly-once only while they are cut alike).
func TestReaderSkipsRepeatedOffsetsThatAgree(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 0, false), lines(0, 4))
	put(t, root, landed(0, 2, false), lines(2, 4))
	put(t, root, landed(0, 3, false), lines(3, 4))
	r, _ := reader(t, root, 0, 0, Limits{})
	assert.Equal(t, []got{
		{0, 0, 1, `{"n":0}`}, {0, 1, 2, `{"n":1}`}, {0, 2, 3, `{"n":2}`}, {0, 3, 4, `{"n":3}`},
		{0, 4, 3, `{"n":4}`}, {0, 5, 4, `{"n":5}`}, {0, 6, 4, `{"n":6}`},
	}, readAll(t, r))
	assert.Equal(t, int64(5), r.Skipped()) // 2+3 repeated lines
}

func TestReaderRefusesRepeatedOffsetsThatDisagree(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 0, false), lines(0, 4))
	put(t, root, landed(0, 2, false), []byte("{\"n\":2}\n{\"n\":999}\n{\"n\":4}\n"))
	for _, next := range []int64{0, 3} { // repeated lines already applied or not
		r, _ := reader(t, root, 0, next, Limits{})
		var err error
		for err == nil {
			_, err = r.Read()
		}
		be, ok := badinput.As(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, landed(0, 2, false), be.Object)
		assert.Equal(t, 2, be.Line)
		assert.Equal(t, int64(3), be.Offset)
		assert.Contains(t, be.Reason, "repeats offset 3, which "+landed(0, 0, false)+" landed with a different event")
		require.NoError(t, r.Close())
	}
}

func TestReaderStopsAtGap(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 0, false), lines(0, 3))
	put(t, root, landed(0, 5, false), lines(5, 2))
	r, _ := reader(t, root, 0, 0, Limits{})
	assert.Equal(t, []got{{0, 0, 1, `{"n":0}`}, {0, 1, 2, `{"n":1}`}, {0, 2, 3, `{"n":2}`}}, readAll(t, r))
	g := r.Gap()
	require.NotNil(t, g)
	assert.Equal(t, int64(3), g.Expected)
	assert.Equal(t, int64(5), g.NextOffset)
	assert.Equal(t, landed(0, 5, false), g.NextObject)
	assert.Equal(t, int32(0), g.Partition)
	assert.Equal(t, topic, g.Topic)
	assert.False(t, g.Since.IsZero())
	assert.Contains(t, g.String(), "offsets 3 to 4 are not landed")
	assert.Equal(t, int64(3), r.Next(), "the position stops before the gap")

	// A position past the last object's start with nothing landed beyond it
	// is no gap; a first object starting past the position is.
	r, _ = reader(t, root, 0, 9, Limits{})
	assert.Empty(t, readAll(t, r))
	assert.Nil(t, r.Gap())

	// The missing object lands: everything reads, in order.
	put(t, root, landed(0, 3, false), lines(3, 2))
	r, _ = reader(t, root, 0, 3, Limits{})
	assert.Equal(t, []got{{0, 3, 1, `{"n":3}`}, {0, 4, 2, `{"n":4}`}, {0, 5, 1, `{"n":5}`}, {0, 6, 2, `{"n":6}`}}, readAll(t, r))
	assert.Nil(t, r.Gap())
}

func TestReaderGapBeforeTheFirstObject(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(1, 40, false), lines(0, 2))
	r, st := reader(t, root, 1, 0, Limits{})
	assert.Empty(t, readAll(t, r))
	require.NotNil(t, r.Gap())
	assert.Equal(t, int64(0), r.Gap().Expected)
	assert.Empty(t, st.opened)
}

func TestReaderLineEndings(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 0, false), []byte("{\"a\":1}\r\n{\"a\":2}")) // CRLF, no final newline
	long := `{"big":"` + strings.Repeat("x", 3<<20) + `"}`
	put(t, root, landed(0, 2, false), []byte(long+"\n{\"a\":3}\n"))
	put(t, root, landed(0, 4, true), gzipped(t, nil)) // an empty gzip file
	r, _ := reader(t, root, 0, 0, Limits{})
	assert.Equal(t, []got{{0, 0, 1, `{"a":1}`}, {0, 1, 2, `{"a":2}`}, {0, 2, 1, long}, {0, 3, 2, `{"a":3}`}}, readAll(t, r))
	assert.Nil(t, r.Gap())
}

func TestReaderBadInput(t *testing.T) {
	cases := []struct {
		name   string
		key    string
		data   func(t *testing.T) []byte
		lim    Limits
		line   int
		offset int64
		reason string
	}{
		{"an empty line", landed(3, 40, false), func(*testing.T) []byte { return []byte("{}\n\n{}\n") }, Limits{},
			2, 41, "empty line"},
		{"a damaged gzip stream", landed(3, 40, true), func(t *testing.T) []byte {
			gz := gzipped(t, lines(0, 1000))
			return gz[:len(gz)/2]
		}, Limits{}, 0, 0, "damaged gzip stream after line"},
		{"not gzip at all", landed(3, 40, true), func(*testing.T) []byte { return lines(0, 3) }, Limits{},
			0, 0, "damaged gzip stream after line 0"},
		{"a line past the limit", landed(3, 40, false), func(*testing.T) []byte {
			return []byte("{}\n{\"x\":\"" + strings.Repeat("y", 5000) + "\"}\n")
		}, Limits{MaxLineBytes: 4096}, 2, 41, "the line is longer than 4096 bytes"},
		{"a last line past the limit, no newline", landed(3, 40, false), func(*testing.T) []byte {
			return []byte(strings.Repeat("y", 5000))
		}, Limits{MaxLineBytes: 4096}, 1, 40, "the line is longer than 4096 bytes"},
		{"an expansion past the object limit", landed(3, 40, true), func(t *testing.T) []byte {
			return gzipped(t, lines(0, 100_000))
		}, Limits{MaxObjectBytes: 1 << 20}, 0, 0, "expands past 1048576 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			put(t, root, c.key, c.data(t))
			r, _ := reader(t, root, 3, 40, c.lim)
			var err error
			for err == nil {
				_, err = r.Read()
			}
			require.NotEqual(t, io.EOF, err)
			be, ok := badinput.As(err)
			require.True(t, ok, "%T %v", err, err)
			assert.Equal(t, c.key, be.Object)
			if c.line > 0 {
				assert.Equal(t, c.line, be.Line)
				assert.Equal(t, c.offset, be.Offset)
				assert.Equal(t, int32(3), be.Partition)
				assert.Contains(t, err.Error(), fmt.Sprintf("%s line %d (partition 3, offset %d)", c.key, c.line, c.offset))
			}
			assert.Contains(t, be.Reason, c.reason)
			require.NoError(t, r.Close())
		})
	}
}

// TestReaderGzipBomb reads a 4 GiB expansion from a few MB of gzip
// members (RFC 1952 allows a file of several members, and Go's reader
// reads them all): one endless line stops at the line limit, and many
// lines at the ratio limit, each without holding more than a line.
func TestReaderGzipBomb(t *testing.T) {
	member := func(line bool) []byte {
		var b bytes.Buffer
		w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
		require.NoError(t, err)
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		if line {
			copy(chunk[len(chunk)-1:], "\n")
		}
		for i := 0; i < 64; i++ {
			_, err := w.Write(chunk)
			require.NoError(t, err)
		}
		require.NoError(t, w.Close())
		return b.Bytes()
	}
	for _, tc := range []struct {
		name   string
		lines  bool
		lim    Limits
		reason string
	}{
		{"one line", false, Limits{MaxCompressionRatio: 1 << 20}, "the line is longer than 67108864 bytes"},
		{"many lines", true, Limits{}, "expands more than 250 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := member(tc.lines)
			bomb := bytes.Repeat(m, 64) // 64 x 64 MiB = 4 GiB
			root := t.TempDir()
			put(t, root, landed(0, 0, true), bomb)
			r, _ := reader(t, root, 0, 0, tc.lim)
			var err error
			n := 0
			for err == nil {
				_, err = r.Read()
				n++
			}
			be, ok := badinput.As(err)
			require.True(t, ok, "%v", err)
			assert.Contains(t, be.Reason, tc.reason)
			require.NoError(t, r.Close())
			t.Logf("%d compressed bytes: %v after %d lines", len(bomb), err, n-1)
		})
	}
}

func TestPositionEncoding(t *testing.T) {
	p := Position{0: 1200, 1: 87, 10: 3}
	s := p.Encode()
	assert.Equal(t, `{"0":1200,"1":87,"10":3}`, s)
	back, err := ParsePosition(s)
	require.NoError(t, err)
	assert.Equal(t, p, back)
	empty, err := ParsePosition("")
	require.NoError(t, err)
	assert.Equal(t, Position{}, empty)
	assert.Equal(t, "{}", Position{}.Encode())
	for _, bad := range []string{`{"x":1}`, `{"0":-1}`, `[1]`, `{"-1":0}`} {
		_, err := ParsePosition(bad)
		assert.Error(t, err, bad)
	}
	p.Advance(1, 50) // never backwards
	assert.Equal(t, int64(87), p.Next(1))
	p.Advance(1, 87)
	assert.Equal(t, int64(88), p.Next(1))
	assert.True(t, p.Applied(1, 87))
	assert.False(t, p.Applied(1, 88))
	assert.False(t, p.Applied(5, 0))
}

func TestLocalStoreRefusesEscapingKeys(t *testing.T) {
	s := NewLocalStore(t.TempDir())
	for _, key := range []string{"../etc/passwd", "/etc/passwd", "a/../../b"} {
		_, err := s.Open(context.Background(), key)
		assert.Error(t, err, key)
		_, err = s.List(context.Background(), key)
		assert.Error(t, err, key)
	}
}
