package jobspec_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

// captureSpec is validSpec landed by an embedded capture.
func captureSpec() *jobspec.Spec {
	s := validSpec()
	s.Source.Debezium.Capture = &jobspec.Capture{
		Container: "shop_db", Credential: "shop_cdc", Database: "shop", Server: "lake.shop",
		Slot: "ds_lake_shop_0a1b2c3d", Publication: "ds_lake_shop_0a1b2c3d",
	}
	return s
}

func TestValidateAcceptsACapture(t *testing.T) {
	require.NoError(t, captureSpec().Validate())
	s := captureSpec()
	// 63 bytes, PostgreSQL's longest name, starting with '_'.
	s.Source.Debezium.Capture.Slot = "_" + strings.Repeat("a1", 31)
	require.Len(t, s.Source.Debezium.Capture.Slot, 63)
	assert.NoError(t, s.Validate())
}

// The slot's rules are PostgreSQL's for replication slot names
// (ReplicationSlotValidateName in src/backend/replication/slot.c: lower-case
// letters, digits and underscores, at most NAMEDATALEN-1 bytes); the
// publication is held to the same.
func TestValidateRefusesACapture(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(c *jobspec.Capture)
		msg    string
	}{
		{"no container", func(c *jobspec.Capture) { c.Container = "" }, "job spec: source.debezium.capture.container is empty"},
		{"no credential", func(c *jobspec.Capture) { c.Credential = "" }, "source.debezium.capture.credential is empty"},
		{"no database", func(c *jobspec.Capture) { c.Database = "" }, "source.debezium.capture.database is empty"},
		{"no server", func(c *jobspec.Capture) { c.Server = "" }, "source.debezium.capture.server is empty"},
		{"no slot", func(c *jobspec.Capture) { c.Slot = "" }, "source.debezium.capture.slot is empty"},
		{"no publication", func(c *jobspec.Capture) { c.Publication = "" }, "source.debezium.capture.publication is empty"},
		{"an upper-case slot", func(c *jobspec.Capture) { c.Slot = "DS_shop" },
			`job spec: source.debezium.capture.slot "DS_shop" has 'D'; use only lower-case letters, digits and '_'`},
		{"a slot with a dash", func(c *jobspec.Capture) { c.Slot = "ds-shop" }, `capture.slot "ds-shop" has '-'`},
		{"a slot starting with a digit", func(c *jobspec.Capture) { c.Slot = "1shop" }, `capture.slot "1shop" starts with a digit`},
		{"a slot of 64 bytes", func(c *jobspec.Capture) { c.Slot = strings.Repeat("a", 64) },
			`has 64 bytes; PostgreSQL names have at most 63`},
		{"a quoted publication", func(c *jobspec.Capture) { c.Publication = `"shop"` }, `capture.publication "\"shop\"" has '"'`},
		{"a publication with a space", func(c *jobspec.Capture) { c.Publication = "shop pub" }, `capture.publication "shop pub" has ' '`},
		{"a non-ASCII publication", func(c *jobspec.Capture) { c.Publication = "shöp" }, `capture.publication "shöp" has`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := captureSpec()
			c.change(s.Source.Debezium.Capture)
			err := s.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
			b, merr := jobspec.Marshal(s)
			require.NoError(t, merr)
			_, perr := jobspec.Parse(b)
			require.Error(t, perr)
			assert.Equal(t, err.Error(), perr.Error())
		})
	}
}
