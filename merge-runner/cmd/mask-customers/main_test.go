package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSaltIsRequired: hashes without a secret salt are reversed by hashing
// likely e-mail local parts, so the program refuses to run without one and
// takes it from the transformer's credential as the DAG passes it.
func TestSaltIsRequired(t *testing.T) {
	base := map[string]string{"DATASURFACE_RUN_ID": "r1", "DATASURFACE_RUN_DIR": t.TempDir(), "DATASURFACE_CATALOG_URI": "sqlite:x"}
	envOf := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	_, err := parse(nil, envOf(nil), io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no salt for the hashes")

	c, err := parse(nil, envOf(map[string]string{"DATASURFACE_CREDENTIAL_MASK_SALT_PASSWORD": "s3cret"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, digest("s3cret", "ada"), c.masks["phone"]("ada"))
	assert.NotEqual(t, digest("", "ada"), c.masks["phone"]("ada"))

	c, err = parse([]string{"--unsalted"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, digest("", "ada"), c.masks["phone"]("ada"))
}
