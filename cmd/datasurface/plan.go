package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
)

func newPlan() *cobra.Command {
	var repo, path, base, head, format, out, templatesDir string
	var lim limitFlags
	var quiet bool
	cmd := &cobra.Command{
		Use:   "plan --base DIR|REV --head DIR|REV [--repo PATH] [--format markdown|json] [--out FILE] [--quiet]",
		Short: "Show what a model change would deploy: artifact diffs and schema evolutions",
		Long: `Render the base and the head model and compare them: the artifacts added,
changed and removed (with unified diffs), whether the model commit recorded
in MANIFEST.json changes, and the Iceberg schema evolutions the change implies,
each judged allowed or refused for consumers.

--base and --head are each a folder or, when no such folder exists, a git
revision of the repository given by --repo (default "."). --path is the
model's folder inside that repository.

The markdown format is meant for a merge-request note; json is a stable
structure for tools. The plan goes to stdout (or --out); progress (what it
is doing, counts, elapsed time) goes to stderr, and --quiet silences it.

Exit status: 0 when the plan was made, even with refused evolutions (check
judges them); 1 when a side has lint errors; 2 when a side cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if base == "" || head == "" {
				return &exitError{code: exitUnread, err: errors.New("--base and --head are required: the folders or revisions to compare")}
			}
			if format != "markdown" && format != "json" {
				return &exitError{code: exitUnread, err: fmt.Errorf("unknown format %q: use markdown or json", format)}
			}
			p := newProgress(cmd, quiet)
			bm, berr := loadSide(cmd, "base", base, repo, path, lim.limits(), p)
			hm, herr := loadSide(cmd, "head", head, repo, path, lim.limits(), p)
			if err := worse(berr, herr); err != nil {
				return err
			}
			p.begin("rendering both sides and comparing them")
			res, err := generator.PlanContext(cmd.Context(), bm, hm, generator.Options{Version: version, TemplatesDir: templatesDir})
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			p.done("compared")
			var b []byte
			if format == "json" {
				if b, err = res.JSON(); err != nil {
					return &exitError{code: exitUnread, err: err}
				}
			} else {
				b = []byte(res.Markdown())
			}
			if out != "" {
				err = os.WriteFile(out, b, 0o644)
			} else {
				_, err = cmd.OutOrStdout().Write(b)
			}
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			where := "stdout"
			if out != "" {
				where = out
			}
			p.finish("plan written to %s", where)
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "the model before the change: a folder or a git revision of --repo")
	cmd.Flags().StringVar(&head, "head", "", "the model after the change: a folder or a git revision of --repo")
	cmd.Flags().StringVar(&repo, "repo", ".", "the git repository that revisions are read from")
	cmd.Flags().StringVar(&path, "path", "", "the model's folder inside the repository (for revisions)")
	cmd.Flags().StringVar(&format, "format", "markdown", "output format: markdown or json")
	cmd.Flags().StringVar(&out, "out", "", "write the plan to this file instead of stdout")
	cmd.Flags().StringVar(&templatesDir, "templates", "", "a folder of templates overriding the embedded ones by file name")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print no progress on stderr (warnings and errors still are)")
	lim.register(cmd)
	return cmd
}

// loadSide loads one side of a plan: a folder if value is one, otherwise a
// revision of repo. It refuses a model that cannot be read or has lint
// errors, printing the problems.
func loadSide(cmd *cobra.Command, side, value, repo, path string, lim model.Limits, p *progress) (*model.Model, error) {
	var m *model.Model
	var loadErrs []*model.LoadError
	var err error
	if st, serr := os.Stat(value); serr == nil && st.IsDir() {
		p.begin("loading the %s from %s", side, value)
		m, loadErrs, err = model.LoadWith(cmd.Context(), model.DirSource(value), lim)
	} else {
		p.begin("loading the %s from %s at %s", side, repo, value)
		m, loadErrs, err = model.LoadWith(cmd.Context(), &model.GitSource{Repo: repo, Rev: value, Dir: path}, lim)
	}
	if err != nil {
		err = fmt.Errorf("--%s %s: %w", side, value, err)
	} else {
		p.loaded("the "+side, m)
	}
	return checkValid(cmd, m, loadErrs, err)
}

// worse combines the errors of both sides: a side that cannot be read
// (exit 2) outweighs one with lint errors (exit 1).
func worse(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	code := exitProblems
	for _, err := range []error{a, b} {
		var ee *exitError
		if !errors.As(err, &ee) || ee.code == exitUnread {
			code = exitUnread
		}
	}
	return &exitError{code: code, err: fmt.Errorf("%w; %w", a, b)}
}
