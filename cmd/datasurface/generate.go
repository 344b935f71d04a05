package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// loadValid loads a model and refuses one that cannot be read or has lint
// errors, printing the problems.
func loadValid(cmd *cobra.Command, mf *modelFlags, args []string) (*model.Model, error) {
	m, loadErrs, err := mf.load(cmd, args)
	return checkValid(cmd, m, loadErrs, err)
}

// checkValid takes what a load returned and refuses a model that could not
// be read (exit 2) or has lint errors (exit 1), printing the problems.
func checkValid(cmd *cobra.Command, m *model.Model, loadErrs []*model.LoadError, err error) (*model.Model, error) {
	if err != nil {
		return nil, &exitError{code: exitUnread, err: err}
	}
	if len(loadErrs) > 0 {
		_ = lint.Write(cmd.ErrOrStderr(), "human", m.Source, lint.FromLoadErrors(loadErrs))
		return nil, &exitError{code: exitUnread, err: fmt.Errorf("%s cannot be read", m.Source)}
	}
	ps := lint.Lint(m)
	if n, _, _ := lint.Count(ps); n > 0 {
		_ = lint.Write(cmd.ErrOrStderr(), "human", m.Source, ps)
		return nil, &exitError{code: exitProblems, err: fmt.Errorf("%s has %d lint errors; fix them first (datasurface validate)", m.Source, n)}
	}
	return m, nil
}

func newGenerate() *cobra.Command {
	var mf modelFlags
	var out, templatesDir string
	cmd := &cobra.Command{
		Use:   "generate [MODEL | --repo PATH --rev REV] --out DIR",
		Short: "Render the deploy tree (DAGs, connector configs, job specs, Trino views) into a folder",
		Long: `Render the deploy tree of a model into DIR.

The output is byte-identical for the same model. Files the model no longer
needs are removed if this command generated them (MANIFEST.json records what
it owns); files it did not generate are never touched; unchanged files are not
rewritten.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &exitError{code: exitUnread, err: fmt.Errorf("--out is required: the folder to render into")}
			}
			m, err := loadValid(cmd, &mf, args)
			if err != nil {
				return err
			}
			tree, err := generator.Generate(cmd.Context(), m, generator.Options{Version: version, TemplatesDir: templatesDir})
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			for _, w := range tree.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			res, err := generator.Write(out, tree)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			w := cmd.OutOrStdout()
			for _, p := range res.Added {
				fmt.Fprintln(w, "added  ", p)
			}
			for _, p := range res.Changed {
				fmt.Fprintln(w, "changed", p)
			}
			for _, p := range res.Removed {
				fmt.Fprintln(w, "removed", p)
			}
			fmt.Fprintf(w, "%s: %d added, %d changed, %d removed, %d unchanged\n", out, len(res.Added), len(res.Changed), len(res.Removed), len(res.Unchanged))
			return nil
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "the folder to render into")
	cmd.Flags().StringVar(&templatesDir, "templates", "", "a folder of templates overriding the embedded ones by file name")
	return cmd
}
