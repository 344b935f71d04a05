package fold

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
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/order"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// The golden customer stream: landed files on a local folder, read from an
// applied position, decoded with the generated spec and folded.

const customersTopic = "acme.customer_db.public.customers"

func customerEvent(op, before, after string, lsn int) string {
	if before == "" {
		before = "null"
	}
	if after == "" {
		after = "null"
	}
	return fmt.Sprintf(`{"before":%s,"after":%s,"source":{"version":"2.7.3.Final","connector":"postgresql","name":"acme.customer_db","ts_ms":%d,"snapshot":"false","db":"crm","sequence":"[null,\"%d\"]","ts_us":%d,"ts_ns":%d,"schema":"public","table":"customers","txId":%d,"lsn":%d,"xmin":null},"transaction":null,"op":"%s","ts_ms":%d,"ts_us":%d,"ts_ns":%d}`,
		before, after, 1709288130000+lsn, lsn, (1709288130000+lsn)*1000, (1709288130000+lsn)*1000000, 700+lsn, lsn, op, 1709288131000+lsn, (1709288131000+lsn)*1000, (1709288131000+lsn)*1000000)
}

func customer(id, email, credit string) string {
	return fmt.Sprintf(`{"id":"%s","first_name":"Anne","last_name":"Kretchmar","dob":7305,"email":"%s","phone":null,"credit_limit":%s,"created_at":"2024-03-01T10:15:30.123456Z"}`, id, email, credit)
}

func putObject(t *testing.T, root string, part int, start int64, gz bool, lines ...string) string {
	t.Helper()
	key := fmt.Sprintf("cdc/%s/partition=%d/%s+%d+%010d.json", customersTopic, part, customersTopic, part, start)
	data := []byte(strings.Join(lines, "\n") + "\n")
	if gz {
		key += ".gz"
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, err := w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		data = b.Bytes()
	}
	p := filepath.Join(root, filepath.FromSlash(key))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return key
}

func goldenCustomers(t *testing.T) (*jobspec.Spec, *jobspec.Table) {
	t.Helper()
	spec, err := jobspec.Read("../../../golden/customer-cdc/platforms/lakehouse/jobs/customer_db.json")
	require.NoError(t, err)
	for i := range spec.Tables {
		if spec.Tables[i].Name == "customers" {
			return spec, &spec.Tables[i]
		}
	}
	t.Fatal("no customers table")
	return nil, nil
}

// run reads, decodes and folds the topic from a position.
func run(t *testing.T, root string, from landing.Position) (Result, landing.Position, error) {
	spec, table := goldenCustomers(t)
	ctx := context.Background()
	store := landing.NewLocalStore(root)
	files, err := landing.ListTopic(ctx, store, spec.Source.Debezium.Prefix, table.Topic)
	if err != nil {
		return Result{}, nil, err
	}
	dec, err := debezium.NewDecoder(table, spec.Source.Debezium.Encoding)
	require.NoError(t, err)
	// Every object landed long ago: no partition is waited for.
	later := func() time.Time { return time.Now().Add(24 * time.Hour) }
	rd := order.New(ctx, store, files, dec, order.State{Position: from}, order.Options{Grace: time.Hour, Now: later})
	defer rd.Close()
	f := New(0)
	var evs []*debezium.Event
	for {
		ev, _, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, nil, err
		}
		evs = append(evs, &ev)
		f.Add(evs[len(evs)-1])
	}
	return f.Result(), rd.State().Position, nil
}

func TestPipelineGoldenCustomers(t *testing.T) {
	root := t.TempDir()
	putObject(t, root, 0, 0, false,
		customerEvent("r", "", customer("C-1", "anne@a.example", `"AYag"`), 10),
		customerEvent("c", "", customer("C-2", "bob@b.example", "null"), 11),
		customerEvent("u", "", customer("C-1", "anne@new.example", `"AYag"`), 12),
	)
	putObject(t, root, 0, 3, true,
		customerEvent("d", `{"id":"C-2","first_name":"","last_name":"","dob":0,"email":null,"phone":null,"credit_limit":null,"created_at":"1970-01-01T00:00:00Z"}`, "", 13),
		"null",
	)
	putObject(t, root, 1, 0, false,
		customerEvent("c", "", customer("C-3", "carol@c.example", `"ALxhAA=="`), 14),
	)

	res, pos, err := run(t, root, landing.Position{0: 1})
	require.NoError(t, err)
	assert.Equal(t, landing.Position{0: 5, 1: 1}, pos)
	assert.Equal(t, Counts{Creates: 2, Updates: 1, Deletes: 1, Tombstones: 1}, res.Counts)
	assert.False(t, res.Truncate)
	require.Len(t, res.Deletes, 1)
	assert.Equal(t, "C-2", res.Deletes[0][0].Text())
	require.Len(t, res.Upserts, 2)
	c1, c3 := res.Upserts[0], res.Upserts[1]
	assert.Equal(t, "C-1", c1.Key[0].Text())
	assert.Equal(t, "anne@new.example", c1.Row[4].Text())
	assert.True(t, row.Equal(row.Decimal(100000, 2), c1.Row[6]), c1.Row[6].String())
	assert.Equal(t, int64(2), c1.Offset)
	assert.Equal(t, "C-3", c3.Key[0].Text())
	assert.True(t, row.Equal(row.Decimal(12345600, 2), c3.Row[6]), c3.Row[6].String())
	assert.Equal(t, int32(1), c3.Partition)

	// A rerun from the position reached applies nothing.
	res, pos2, err := run(t, root, pos)
	require.NoError(t, err)
	assert.Equal(t, pos, pos2)
	assert.Equal(t, Counts{}, res.Counts)
}

func TestPipelineBadInputNamesObjectLineAndOffset(t *testing.T) {
	root := t.TempDir()
	putObject(t, root, 0, 0, false, customerEvent("c", "", customer("C-1", "a@a.example", "null"), 1))
	key := putObject(t, root, 1, 250, true,
		customerEvent("c", "", customer("C-2", "b@b.example", "null"), 2),
		customerEvent("c", "", customer("C-3", strings.Repeat("x", 101), "null"), 3),
	)
	// Partition 1's earlier offsets were applied already (else they would be
	// a gap the reader stops at).
	_, _, err := run(t, root, landing.Position{1: 250})
	require.Error(t, err)
	be, ok := badinput.As(err)
	require.True(t, ok, "%T %v", err, err)
	assert.Equal(t, key, be.Object)
	assert.Equal(t, 2, be.Line)
	assert.Equal(t, int32(1), be.Partition)
	assert.Equal(t, int64(251), be.Offset)
	assert.Equal(t, "email", be.Column)
	assert.Equal(t, fmt.Sprintf(`bad input: %s line 2 (partition 1, offset 251): column "email": a string of 101 characters does not fit varchar(100)`, key), err.Error())
}
