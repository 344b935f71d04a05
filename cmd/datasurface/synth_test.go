package main

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSynthThenValidateStats(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "model")
	code, out, errOut := runCLI(t, "synth", "--datasets", "64", "--out", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "64 datasets, 736 columns")

	code, out, errOut = runCLI(t, "validate", "--stats", dir)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "0 errors")
	assert.Regexp(t, regexp.MustCompile(`stats: files=17 datasets=64 columns=736 load=[0-9.]+s lint=[0-9.]+s report=[0-9.]+s total=[0-9.]+s cpu=([0-9.]+s|unknown) peak_rss=([0-9.]+MiB|unknown)\n`), errOut)

	// Without --stats, nothing on stderr.
	code, _, errOut = runCLI(t, "validate", dir)
	require.Equal(t, exitOK, code)
	assert.Empty(t, errOut)

	// The folder is not empty any more: synth refuses it.
	code, _, errOut = runCLI(t, "synth", "--datasets", "64", "--out", dir)
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "not empty")
}
