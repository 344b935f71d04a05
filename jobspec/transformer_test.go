package jobspec_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

// transformerSpec is validSpec fed by a transformer's runs.
func transformerSpec() *jobspec.Spec {
	s := validSpec()
	s.Source = jobspec.Source{Kind: jobspec.SourceTransformer, Transformer: &jobspec.TransformerSource{
		Name:   "analytics.mask_customers",
		Output: "s3://landing/cdc/_transformers/analytics.mask_customers",
		Inputs: []jobspec.TransformerInput{
			{Dataset: "customer_db.customers", Namespace: "customer_db", Table: "customers"},
			{Dataset: "customer_db.addresses", Namespace: "customer_db", Table: "addresses"},
		},
	}}
	for i := range s.Tables {
		s.Tables[i].Topic = ""
	}
	return s
}

func TestValidateAcceptsATransformer(t *testing.T) {
	require.NoError(t, transformerSpec().Validate())
	s := transformerSpec()
	s.Source.Transformer.Output = "/var/lib/runs" // a folder: local runs and tests
	assert.NoError(t, s.Validate())
}

func TestValidateRefusesATransformer(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(s *jobspec.Spec)
		msg    string
	}{
		{"no block", func(s *jobspec.Spec) { s.Source.Transformer = nil },
			"job spec: source kind transformer needs source.transformer"},
		{"a postgres block too", func(s *jobspec.Spec) { s.Source.Postgres = &jobspec.PostgresSource{Container: "pg"} },
			"job spec: source kind transformer reads a transformer's runs; remove source.debezium and source.postgres"},
		{"a debezium block too", func(s *jobspec.Spec) { s.Source.Debezium = &jobspec.DebeziumSource{Bucket: "landing"} },
			"remove source.debezium and source.postgres"},
		{"no name", func(s *jobspec.Spec) { s.Source.Transformer.Name = "" },
			"job spec: source.transformer.name is empty"},
		{"no output", func(s *jobspec.Spec) { s.Source.Transformer.Output = "" },
			"job spec: source.transformer.output is empty"},
		{"an output without a bucket", func(s *jobspec.Spec) { s.Source.Transformer.Output = "s3://" },
			`job spec: source.transformer.output "s3://" names no bucket; use s3://bucket/prefix`},
		{"no inputs", func(s *jobspec.Spec) { s.Source.Transformer.Inputs = nil },
			"job spec: source.transformer.inputs is empty"},
		{"an input without its table", func(s *jobspec.Spec) { s.Source.Transformer.Inputs[1].Table = "" },
			"job spec: source.transformer.inputs[1] needs dataset, namespace and table"},
		{"an input twice", func(s *jobspec.Spec) { s.Source.Transformer.Inputs[1] = s.Source.Transformer.Inputs[0] },
			"job spec: source.transformer.inputs: table customer_db.customers is listed twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := transformerSpec()
			c.change(s)
			err := s.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}
