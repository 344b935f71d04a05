package lint_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model/lint"
)

// enterpriseFiles reads examples/enterprise as model files.
func enterpriseFiles(t *testing.T) modelFiles {
	root := "../../examples/enterprise"
	files := modelFiles{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return files
}

func codes(ps []lint.Problem, code string) []lint.Problem {
	var out []lint.Problem
	for _, p := range ps {
		if p.Code == code {
			out = append(out, p)
		}
	}
	return out
}

const (
	maskingWS     = "zones/retail/teams/crm/workspaces/customer_masking.yaml"
	researchWS    = "zones/retail/teams/marketing/workspaces/audience_research.yaml"
	enterpriseEco = "ecosystem.yaml"
)

func TestTransformerRules(t *testing.T) {
	base := enterpriseFiles(t)
	n, _, _ := lint.Count(lintFiles(t, base))
	require.Zero(t, n)

	t.Run("cycle", func(t *testing.T) {
		f := base.clone()
		// The masking workspace reads its own output on the transformer's platform.
		f.replace(t, maskingWS, "      - customer_db.customers\n", "      - customer_db.customers\n      - masked_customers.customers\n")
		ps := codes(lintFiles(t, f), "transformer-cycle")
		require.Len(t, ps, 1)
		assert.Equal(t, lint.Error, ps[0].Severity)
		assert.Contains(t, ps[0].Message, "customer_masking.mask_customers -> customer_masking.mask_customers")
	})
	t.Run("sink on another platform", func(t *testing.T) {
		f := base.clone()
		f.replace(t, researchWS, "platform: lakehouse", "platform: analytics_lake")
		ps := codes(lintFiles(t, f), "sink-transformer-platform")
		require.Len(t, ps, 1)
		assert.Contains(t, ps[0].Message, "runs on platform lakehouse")
	})
	t.Run("unused", func(t *testing.T) {
		f := base.clone()
		f.replace(t, researchWS, "      - masked_customers.customers\n", "      - customer_db.customers\n")
		ps := lintFiles(t, f)
		w := codes(ps, "transformer-unused")
		require.Len(t, w, 1)
		assert.Equal(t, lint.Warning, w[0].Severity)
		assert.Empty(t, codes(ps, "platform-transformer-credential"), "a platform running no transformer needs no read-only login for it")
	})
	t.Run("read-only credential required", func(t *testing.T) {
		f := base.clone()
		f.replace(t, enterpriseEco, ", read_only_credential: lakehouse_catalog_ro}", "}")
		ps := codes(lintFiles(t, f), "platform-transformer-credential")
		require.Len(t, ps, 1)
		assert.Contains(t, ps[0].Message, "iceberg.catalog.read_only_credential")
	})
	t.Run("read-write credential refused", func(t *testing.T) {
		f := base.clone()
		f.replace(t, enterpriseEco, "read_only_credential: minio_read_keys", "read_only_credential: minio_keys")
		ps := codes(lintFiles(t, f), "platform-transformer-credential")
		require.Len(t, ps, 1)
		assert.Contains(t, ps[0].Message, "read-write credential")
	})
	t.Run("no inputs", func(t *testing.T) {
		f := base.clone()
		f.replace(t, maskingWS, "    platform: lakehouse\n    requirements", "    platform: analytics_lake\n    requirements")
		ps := lintFiles(t, f)
		w := codes(ps, "transformer-no-inputs")
		require.Len(t, w, 1, "%v", ps)
		assert.True(t, strings.Contains(w[0].Message, "platform lakehouse"))
	})
}
