package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/check"
	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/gitlab-ci/mrnote"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// checkFormats are lint's formats plus the merge-request note.
var checkFormats = append([]string{"markdown"}, lint.Formats...)

func newCheck() *cobra.Command {
	var repo, path, base, head, source, format, templatesDir string
	var reports []string
	var note, stats bool
	var src sourceCheck
	var lim limitFlags
	cmd := &cobra.Command{
		Use:   "check --base DIR|REV --head DIR|REV --source PROJECT@BRANCH",
		Short: "Judge a model change: lint, authorization, compatibility and the plan, for a merge request",
		Long: `Compare the base model (the merge request's target) with the head (its
proposal) and give one verdict, built from:
  - the head's lint;
  - authorization: every region the change touches (the ecosystem, a zone, a
    team) must be owned by the merge request's source, <project path>@<branch>;
  - compatibility: every dataset change judged for its consumers;
  - the plan: what the merge would deploy.

--base and --head are each a folder or, when no such folder exists, a git
revision of --repo. --head defaults to the commit checked out in --repo
(HEAD: in a pipeline, the merge request's head), read from git as publish
reads it (files the working tree holds byte for byte are taken from there,
which is faster; a folder is read only when --head names one); --base to
CI_MERGE_REQUEST_DIFF_BASE_SHA, and --source to
CI_MERGE_REQUEST_SOURCE_PROJECT_PATH@CI_MERGE_REQUEST_SOURCE_BRANCH_NAME.
Only the zones whose files differ are read from the base.

With a token in ` + mrnote.TokenEnv + ` (and CI_API_V4_URL, CI_PROJECT_ID,
CI_MERGE_REQUEST_IID), the source, the base and the head are GitLab's, read
from its API: a variable or flag that says otherwise stops the check (exit
1); without one, a source from the variables is reported as unverified
(--require-verified-source refuses it). A changed file outside the model's
layout (CI configuration, CODEOWNERS, scripts) is the ecosystem owner's.

--format chooses the output on stdout (human, markdown, json, codequality,
junit); --report FORMAT=FILE writes more (codequality and junit are what
GitLab's merge-request widgets read); --note creates or updates the check's
note on the merge request (token in ` + mrnote.TokenEnv + `).

Exit status: 0 when the change may merge (warnings allowed), 1 when it may
not, 2 when a side cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if err := src.settle(cmd.Context(), &source, &base, head, repo); err != nil {
				return err
			}
			base = first(base, os.Getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA"))
			if source == "" {
				if p, b := os.Getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH"), os.Getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"); p != "" && b != "" {
					source = p + "@" + b
				}
			}
			if base == "" {
				return &exitError{code: exitUnread, err: errors.New("--base is required (or CI_MERGE_REQUEST_DIFF_BASE_SHA in a merge-request pipeline)")}
			}
			if err := checkSource(source, cmd.Flags().Changed("source")); err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			if !slices.Contains(checkFormats, format) {
				return &exitError{code: exitUnread, err: fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(checkFormats, ", "))}
			}
			var headSrc model.Source = &model.GitSource{Repo: repo, Rev: "HEAD", Dir: path, WorkTree: true}
			if head != "" {
				headSrc = sideSource(head, repo, path)
			}
			// Refuse bad options before any work or output.
			for _, r := range reports {
				f, file, ok := strings.Cut(r, "=")
				if !ok || file == "" || !slices.Contains(checkFormats, f) {
					return &exitError{code: exitUnread, err: fmt.Errorf("--report %q: write FORMAT=FILE with FORMAT one of %s", r, strings.Join(checkFormats, ", "))}
				}
			}
			var noteCfg mrnote.Config
			if note {
				var err error
				if noteCfg, err = mrnote.ConfigFromEnv(); err != nil {
					return &exitError{code: exitUnread, err: err}
				}
			}
			bm, hm, berrs, herrs, err := model.LoadPairWith(cmd.Context(), sideSource(base, repo, path), headSrc, lim.limits())
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			loaded := time.Since(start)
			res, err := check.Run(cmd.Context(), check.Input{Base: bm, Head: hm, BaseErrs: berrs, HeadErrs: herrs, Source: source,
				Generator: generator.Options{Version: version, TemplatesDir: templatesDir}})
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			if err := src.annotate(cmd.Context(), res, bm, base, head, repo, path); err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			what := hm.Source
			if err := writeCheck(cmd.OutOrStdout(), format, what, res); err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			for _, r := range reports {
				f, file, _ := strings.Cut(r, "=")
				if err := writeCheckFile(file, f, what, res); err != nil {
					return &exitError{code: exitUnread, err: err}
				}
			}
			if note {
				cfg := noteCfg
				id, created, err := mrnote.Upsert(cmd.Context(), cfg, res.Markdown())
				if err != nil {
					return &exitError{code: exitUnread, err: fmt.Errorf("merge-request note: %w", err)}
				}
				verb := "updated"
				if created {
					verb = "created"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "datasurface: %s note %d on merge request !%d\n", verb, id, cfg.MR)
			}
			if stats {
				kib, _ := peakRSSKiB()
				fmt.Fprintf(cmd.ErrOrStderr(), "stats: load=%.3fs check=%.3fs total=%.3fs peak_rss=%.1fMiB\n",
					loaded.Seconds(), (time.Since(start) - loaded).Seconds(), time.Since(start).Seconds(), float64(kib)/1024)
			}
			if !res.Passed() {
				return &exitError{code: exitProblems}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&base, "base", "", "the model before the change: a folder or a git revision of --repo")
	f.StringVar(&head, "head", "", "the model after the change (default: the commit checked out in --repo, HEAD)")
	f.StringVar(&repo, "repo", ".", "the git repository that revisions are read from")
	f.StringVar(&path, "path", "", "the model's folder inside the repository (for revisions)")
	f.StringVar(&source, "source", "", "the merge request's source, <project path>@<branch>")
	f.StringVar(&format, "format", "human", "output on stdout: "+strings.Join(checkFormats, ", "))
	f.StringArrayVar(&reports, "report", nil, "also write FORMAT=FILE (repeatable)")
	f.BoolVar(&note, "note", false, "create or update the check's note on the merge request")
	f.BoolVar(&stats, "stats", false, "print timings and peak memory to stderr")
	f.StringVar(&templatesDir, "templates", "", "a folder of templates overriding the embedded ones by file name")
	src.flags(f)
	lim.register(cmd)
	return cmd
}

// sideSource is a folder if value names one, else a revision of repo.
func sideSource(value, repo, path string) model.Source {
	if st, err := os.Stat(value); err == nil && st.IsDir() {
		return model.DirSource(value)
	}
	return &model.GitSource{Repo: repo, Rev: value, Dir: path}
}

// checkSource refuses a merge-request source that is not
// <project path>@<branch>: it could never own a region, so every change
// would be refused for a reason that is not the change's. An empty source
// is judged by check itself (no change can be authorized without one).
func checkSource(source string, fromFlag bool) error {
	if source == "" || lint.ValidOwner(strings.TrimSpace(source)) {
		return nil
	}
	from := "--source"
	if !fromFlag {
		from = "the merge request's source (CI_MERGE_REQUEST_SOURCE_PROJECT_PATH@CI_MERGE_REQUEST_SOURCE_BRANCH_NAME)"
	}
	return fmt.Errorf("%s is %q, which is not <GitLab project path>@<branch>: write the source project's full path, an @ and the source branch, e.g. --source acme/model-retail@add-orders", from, source)
}

func writeCheck(w io.Writer, format, source string, res *check.Result) error {
	switch format {
	case "human", "":
		_, err := io.WriteString(w, res.Human(source))
		return err
	case "markdown":
		_, err := io.WriteString(w, res.Markdown())
		return err
	case "json":
		b, err := res.JSON()
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	return lint.Write(w, format, source, res.Problems)
}

func writeCheckFile(file, format, source string, res *check.Result) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := writeCheck(f, format, source, res); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
