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

func readAll(t *testing.T, r *Reader) []got {
	t.Helper()
	var out []got
	for {
		rec, err := r.Next()
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

func TestReaderSkipsAppliedPositions(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 0, false), lines(0, 3))
	put(t, root, landed(0, 3, true), gzipped(t, lines(3, 2)))
	put(t, root, landed(1, 0, false), lines(100, 2))
	put(t, root, landed(2, 7, false), lines(200, 1))

	cases := []struct {
		name    string
		from    Position
		want    []got
		skipped int64
		after   Position
	}{
		{"from the start", nil, []got{
			{0, 0, 1, `{"n":0}`}, {0, 1, 2, `{"n":1}`}, {0, 2, 3, `{"n":2}`}, {0, 3, 1, `{"n":3}`}, {0, 4, 2, `{"n":4}`},
			{1, 0, 1, `{"n":100}`}, {1, 1, 2, `{"n":101}`}, {2, 7, 1, `{"n":200}`},
		}, 0, Position{0: 5, 1: 2, 2: 8}},
		{"part applied", Position{0: 2, 1: 1}, []got{
			{0, 2, 3, `{"n":2}`}, {0, 3, 1, `{"n":3}`}, {0, 4, 2, `{"n":4}`}, {1, 1, 2, `{"n":101}`}, {2, 7, 1, `{"n":200}`},
		}, 3, Position{0: 5, 1: 2, 2: 8}},
		{"all applied", Position{0: 5, 1: 2, 2: 8}, nil, 8, Position{0: 5, 1: 2, 2: 8}},
		{"a position past a gzip file", Position{0: 4}, []got{
			{0, 4, 2, `{"n":4}`}, {1, 0, 1, `{"n":100}`}, {1, 1, 2, `{"n":101}`}, {2, 7, 1, `{"n":200}`},
		}, 4, Position{0: 5, 1: 2, 2: 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			given := c.from.Clone()
			r := NewReader(context.Background(), NewLocalStore(root), list(t, root), c.from)
			assert.Equal(t, c.want, readAll(t, r))
			assert.Equal(t, c.skipped, r.Skipped())
			assert.Equal(t, c.after, r.Position())
			if c.from != nil {
				assert.Equal(t, given, c.from, "the reader must not change the position it was given")
			}
		})
	}
}

func TestReaderPositionAfterEachRecord(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 10, false), lines(0, 2))
	put(t, root, landed(1, 0, false), lines(0, 1))
	r := NewReader(context.Background(), NewLocalStore(root), list(t, root), Position{})
	_, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, Position{0: 11}, r.Position())
	_, err = r.Next()
	require.NoError(t, err)
	_, err = r.Next()
	require.NoError(t, err)
	assert.Equal(t, Position{0: 12, 1: 1}, r.Position())
	_, err = r.Next()
	assert.Equal(t, io.EOF, err)
}

func TestReaderSkipsOverlappingFiles(t *testing.T) {
	// After a sink restart a file can repeat events an earlier file holds.
	root := t.TempDir()
	put(t, root, landed(0, 0, false), lines(0, 4))
	put(t, root, landed(0, 2, false), lines(2, 4))
	r := NewReader(context.Background(), NewLocalStore(root), list(t, root), nil)
	assert.Equal(t, []got{
		{0, 0, 1, `{"n":0}`}, {0, 1, 2, `{"n":1}`}, {0, 2, 3, `{"n":2}`}, {0, 3, 4, `{"n":3}`},
		{0, 4, 3, `{"n":4}`}, {0, 5, 4, `{"n":5}`},
	}, readAll(t, r))
	assert.Equal(t, int64(2), r.Skipped())
}

func TestReaderLineEndings(t *testing.T) {
	root := t.TempDir()
	put(t, root, landed(0, 0, false), []byte("{\"a\":1}\r\n{\"a\":2}")) // CRLF, no final newline
	long := `{"big":"` + strings.Repeat("x", 3<<20) + `"}`
	put(t, root, landed(0, 2, false), []byte(long+"\n{\"a\":3}\n"))
	put(t, root, landed(0, 4, true), gzipped(t, nil)) // an empty gzip file
	put(t, root, landed(0, 5, false), nil)            // an empty file
	r := NewReader(context.Background(), NewLocalStore(root), list(t, root), nil)
	assert.Equal(t, []got{{0, 0, 1, `{"a":1}`}, {0, 1, 2, `{"a":2}`}, {0, 2, 1, long}, {0, 3, 2, `{"a":3}`}}, readAll(t, r))
}

func TestReaderBadInput(t *testing.T) {
	cases := []struct {
		name   string
		key    string
		data   func(t *testing.T) []byte
		line   int
		offset int64
		reason string
	}{
		{"an empty line", landed(3, 40, false), func(*testing.T) []byte { return []byte("{}\n\n{}\n") },
			2, 41, "empty line"},
		{"a damaged gzip stream", landed(3, 40, true), func(t *testing.T) []byte {
			gz := gzipped(t, lines(0, 1000))
			return gz[:len(gz)/2]
		}, 0, 0, "damaged gzip stream after line"},
		{"not gzip at all", landed(3, 40, true), func(*testing.T) []byte { return lines(0, 3) },
			0, 0, "damaged gzip stream after line 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			put(t, root, c.key, c.data(t))
			r := NewReader(context.Background(), NewLocalStore(root), list(t, root), nil)
			var err error
			for err == nil {
				_, err = r.Next()
			}
			require.NotEqual(t, io.EOF, err)
			be, ok := badinput.As(err)
			require.True(t, ok, "%T %v", err, err)
			assert.Equal(t, c.key, be.Object)
			assert.Equal(t, c.line, be.Line)
			assert.Equal(t, c.offset, be.Offset)
			if c.line > 0 {
				assert.Equal(t, int32(3), be.Partition)
				assert.Contains(t, err.Error(), fmt.Sprintf("%s line %d (partition 3, offset %d)", c.key, c.line, c.offset))
			}
			assert.Contains(t, be.Reason, c.reason)
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
