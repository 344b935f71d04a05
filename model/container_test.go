package model_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/datasurface/datasurface/model"
)

// TestValueChecks holds every check of rendered model text to examples on
// both sides of its rule.
func TestValueChecks(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	for _, c := range []struct {
		name      string
		check     func(string) error
		good, bad []string
	}{
		{"host", model.CheckHost,
			[]string{"db", "crm-db.dublin.meridian.internal", "DB-1.Example.COM", "10.0.0.1", "fd00::1", "::ffff:10.0.0.1", "a1", label63 + "." + label63},
			[]string{"", "${file:/s.properties:password}.x.example", "db_1", "-db", "db-", "db..x", ".db", "db.", "a." + strings.Repeat("b", 64), "10.0.0.300", "1.2.3", "[fd00::1]", "fe80::1%eth0", "db:5432", "db/x", "db x", "dé.example",
				strings.Repeat(label63+".", 4) + "a"}},
		{"postgres identifier", model.CheckPostgresIdentifier,
			[]string{"crm", "_x", "Order_Header", "t1", strings.Repeat("x", 63)},
			[]string{"", "1t", "a-b", "a.b", "a,b", "a$b", "a*", "(a)", "a|b", "a b", "ré", "${x:y}", strings.Repeat("x", 64)}},
		{"bucket", model.CheckBucket,
			[]string{"landing", "meridian-analytics-landing", "a.b.c", "abc", "a1-2", strings.Repeat("b", 63)},
			[]string{"ab", strings.Repeat("b", 64), "Landing", "land_ing", "-landing", "landing-", ".landing", "a..b", "192.168.5.4", "xn--abc", "sthree-x", "amzn-s3-demo-x", "x-s3alias", "x--ol-s3", "x.mrap", "x--x-s3", "${a:b}"}},
		{"key prefix", model.CheckKeyPrefix,
			[]string{"cdc", "iceberg", "a/b/c", "raw-2024_v1.0"},
			[]string{"/cdc", "cdc/", "a//b", ".", "a/../b", "a/./b", "a b", "a?b", "a%2fb", "${a:b}", strings.Repeat("a", 513)}},
		{"endpoint", model.CheckEndpoint,
			[]string{"http://minio:9000", "https://s3.eu-west-1.amazonaws.com", "http://10.0.0.5:9000/", "http://[fd00::5]:9000"},
			[]string{"minio:9000", "ftp://minio", "http://user:pw@minio", "http://minio/bucket", "http://minio?x=1", "http://minio#x", "http://minio:0", "http://minio:99999", "http://minio:", "http://min_io", "http://fd00::5", "http://", "http://${file:/x:y}"}},
		{"region", model.CheckRegion,
			[]string{"eu-west-1", "us-gov-west-1", "minio"},
			[]string{"", "EU-west-1", "eu west", "eu--west", "-eu", "eu-", "eu_west", strings.Repeat("a", 64)}},
		{"topic", model.CheckTopicName,
			[]string{"meridian", "meridian.ledger_db.gl.accounts", "a-b_c.d", strings.Repeat("t", 249)},
			[]string{"", "a/b", "a b", "a,b", "a:b", "${a:b}", strings.Repeat("t", 250)}},
	} {
		for _, v := range c.good {
			assert.NoError(t, c.check(v), "%s %q", c.name, v)
		}
		for _, v := range c.bad {
			assert.Error(t, c.check(v), "%s %q", c.name, v)
		}
	}
	for _, p := range []int{1, 5432, 65535} {
		assert.NoError(t, model.CheckPort(p), "port %d", p)
	}
	for _, p := range []int{-1, 0, 65536} {
		assert.Error(t, model.CheckPort(p), "port %d", p)
	}
	assert.True(t, model.HasConfigReference("a${b"))
	assert.False(t, model.HasConfigReference("a$ {b} $"))
	assert.Equal(t, "[fd00::1]", model.HostInURL("fd00::1"))
	assert.Equal(t, "10.0.0.1", model.HostInURL("10.0.0.1"))
	assert.Equal(t, "db.example", model.HostInURL("db.example"))
}
