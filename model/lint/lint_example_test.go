package lint_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

func TestExamplesHaveNoErrors(t *testing.T) {
	for _, ex := range []string{"customer-cdc", "enterprise", "matrix", "quickstart"} {
		t.Run(ex, func(t *testing.T) {
			m, errs, err := model.LoadDir(context.Background(), "../../examples/"+ex)
			require.NoError(t, err)
			require.Empty(t, errs)
			ps := lint.Lint(m)
			for _, p := range ps {
				t.Log(p)
			}
			nerr, _, _ := lint.Count(ps)
			require.Zero(t, nerr)
		})
	}
}
