package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunSaysWhenNothingIsLanded: events under another prefix than the
// spec's (a topics.dir the S3 sink was not given) used to end in exit 0 and
// empty tables without a word; the run now says what it looked for.
func TestRunSaysWhenNothingIsLanded(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	f := newFixture(t, testSpec(), event("c", 1, "a", 1000))
	// The sink landed under "topics" (its default topics.dir), the spec says "cdc".
	require.NoError(t, os.Rename(filepath.Join(f.events, "cdc"), filepath.Join(f.events, "topics")))
	code, out, stderr := f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	sum := lastLine(t, out)
	require.Len(t, sum["warnings"], 1, out)
	w := sum["warnings"].([]any)[0].(string)
	assert.Contains(t, w, "no landed objects for topic "+topic)
	assert.Contains(t, w, "cdc/"+topic+"/partition=<p>/"+topic+"+<p>+<start offset>.json[.gz]")
	assert.Contains(t, w, "--events "+f.events)
	assert.Contains(t, stderr, "no landed objects")

	// Once events have been applied, a topic whose objects were cleaned up
	// is not a mistake: no warning.
	require.NoError(t, os.Rename(filepath.Join(f.events, "topics"), filepath.Join(f.events, "cdc")))
	code, out, stderr = f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	require.NoError(t, os.RemoveAll(filepath.Join(f.events, "cdc")))
	code, out, stderr = f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, lastLine(t, out), "warnings", out)
}

// TestLandingWithoutRegionNamesTheVariables: a landing store with an access
// key but neither a region nor an endpoint is a configuration error naming
// the variables the README documents.
func TestLandingWithoutRegionNamesTheVariables(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	for _, v := range []string{"_ENDPOINT", "_REGION"} {
		t.Setenv(envLandingS3+v, "")
		t.Setenv(envS3+v, "")
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv(envLandingS3+"_USER", "key")
	t.Setenv(envLandingS3+"_PASSWORD", "secret")
	f := newFixture(t, testSpec(), event("c", 1, "a", 1000))
	code, out, stderr := f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitConfig, code, out+stderr)
	msg := lastLine(t, out)["error"].(string)
	assert.Contains(t, msg, "DATASURFACE_LANDING_S3_REGION (or DATASURFACE_S3_REGION)")
	assert.Contains(t, msg, "DATASURFACE_LANDING_S3_ENDPOINT (or DATASURFACE_S3_ENDPOINT)")
	assert.Contains(t, msg, "--events DIR")

	t.Setenv(envLandingS3+"_ENDPOINT", "minio:9000")
	code, out, _ = f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitConfig, code, out)
	assert.Contains(t, lastLine(t, out)["error"].(string), "fix DATASURFACE_LANDING_S3_ENDPOINT")
}

// TestStatusExplainsRecords: RECORDS is Iceberg's total-records, rows in
// data files before deletes; the table output says so.
func TestStatusExplainsRecords(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	f := newFixture(t, testSpec(), event("c", 1, "a", 1000), event("u", 1, "b", 1001))
	code, _, stderr := f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	code, out, _ := f.run(t, "status", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "RECORDS: rows in the data files before deletes (Iceberg total-records)")
}
