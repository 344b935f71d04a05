package landing

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
)

// File is a landed object whose name parsed.
type File struct {
	Key         string
	Topic       string
	Partition   int32
	StartOffset int64
	Gzip        bool
	Size        int64
	Modified    time.Time
}

// ParseName parses an object key whose base name is
// <topic>+<partition>+<startOffset>.json or .json.gz. When the parent
// directory is partition=<p>, p must be the name's partition. A key that does
// not parse is a *badinput.Error naming it.
func ParseName(key string) (File, error) {
	f := File{Key: key}
	bad := func(reason string) (File, error) {
		return File{}, &badinput.Error{Object: key, Reason: reason}
	}
	base := path.Base(key)
	stem, ok := strings.CutSuffix(base, ".json.gz")
	if ok {
		f.Gzip = true
	} else if stem, ok = strings.CutSuffix(base, ".json"); !ok {
		return bad("landed object name is not <topic>+<partition>+<startOffset>.json[.gz]")
	}
	i := strings.LastIndexByte(stem, '+')
	if i < 0 {
		return bad("landed object name is not <topic>+<partition>+<startOffset>.json[.gz]")
	}
	j := strings.LastIndexByte(stem[:i], '+')
	if j <= 0 {
		return bad("landed object name is not <topic>+<partition>+<startOffset>.json[.gz]")
	}
	f.Topic = stem[:j]
	p, err := parseDigits(stem[j+1:i], 31)
	if err != nil {
		return bad(fmt.Sprintf("landed object name has partition %q: %v", stem[j+1:i], err))
	}
	f.Partition = int32(p)
	off, err := parseDigits(stem[i+1:], 63)
	if err != nil {
		return bad(fmt.Sprintf("landed object name has start offset %q: %v", stem[i+1:], err))
	}
	f.StartOffset = off
	if dir := path.Base(path.Dir(key)); strings.HasPrefix(dir, "partition=") {
		dp, err := parseDigits(strings.TrimPrefix(dir, "partition="), 31)
		if err != nil || int32(dp) != f.Partition {
			return bad(fmt.Sprintf("landed object of partition %d is in directory %s", f.Partition, dir))
		}
	}
	return f, nil
}

// parseDigits parses a non-negative decimal number (leading zeros allowed,
// as the sink zero-pads offsets) that fits in bits bits.
func parseDigits(s string, bits int) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a number")
		}
	}
	return strconv.ParseInt(s, 10, bits+1)
}

// TopicPrefix is the key prefix under which the sink lands a topic:
// <prefix>/<topic>/ (prefix is the sink's topics.dir and may be empty).
func TopicPrefix(prefix, topic string) string {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return topic + "/"
	}
	return prefix + "/" + topic + "/"
}

// ListTopic lists the landed files of a topic ordered by (partition, start
// offset). Directory markers (keys ending in /) are ignored; any other object
// whose name does not parse, or that names another topic, or two objects for
// the same partition and start offset, are a *badinput.Error.
func ListTopic(ctx context.Context, s Store, prefix, topic string) ([]File, error) {
	objs, err := s.List(ctx, TopicPrefix(prefix, topic))
	if err != nil {
		return nil, err
	}
	files := make([]File, 0, len(objs))
	for _, o := range objs {
		if strings.HasSuffix(o.Key, "/") {
			continue
		}
		f, err := ParseName(o.Key)
		if err != nil {
			return nil, err
		}
		if f.Topic != topic {
			return nil, &badinput.Error{Object: o.Key, Reason: fmt.Sprintf("landed object of topic %s is under topic %s", f.Topic, topic)}
		}
		f.Size, f.Modified = o.Size, o.Modified
		files = append(files, f)
	}
	SortFiles(files)
	for i := 1; i < len(files); i++ {
		if files[i].Partition == files[i-1].Partition && files[i].StartOffset == files[i-1].StartOffset {
			return nil, &badinput.Error{Object: files[i].Key, Reason: "another landed object has the same partition and start offset: " + files[i-1].Key}
		}
	}
	return files, nil
}

// SortFiles orders files by (partition, start offset, key).
func SortFiles(files []File) {
	slices.SortFunc(files, func(a, b File) int {
		if c := cmp.Compare(a.Partition, b.Partition); c != 0 {
			return c
		}
		if c := cmp.Compare(a.StartOffset, b.StartOffset); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}
