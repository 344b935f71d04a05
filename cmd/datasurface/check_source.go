package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/pflag"

	"github.com/datasurface/datasurface/check"
	"github.com/datasurface/datasurface/gitlab-ci/mrnote"
	"github.com/datasurface/datasurface/model"
)

// sourceCheck is what check learns beyond the two models: GitLab's word on
// the merge request's source, base and head, and the files the change
// touches outside the model.
type sourceCheck struct {
	requireVerified bool
	// fromEnv: the source is the pipeline's variables, unverified.
	fromEnv bool
}

func (s *sourceCheck) flags(f *pflag.FlagSet) {
	f.BoolVar(&s.requireVerified, "require-verified-source", false,
		"refuse to judge unless GitLab's API confirms the merge request (needs "+mrnote.TokenEnv+")")
}

// settle runs before anything is read. With a token in DATASURFACE_GITLAB_TOKEN
// it asks GitLab for the merge request (CI_API_V4_URL, CI_MERGE_REQUEST_PROJECT_ID
// or CI_PROJECT_ID, CI_MERGE_REQUEST_IID) and sets source and base from its
// answer, refusing when a flag or a variable says otherwise: the variables
// are the pipeline's, which its configuration can set to anything. Without
// one it notes where the source will come from.
func (s *sourceCheck) settle(ctx context.Context, source, base *string, head, repo string) error {
	envProject := strings.TrimSpace(os.Getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH"))
	envBranch := strings.TrimSpace(os.Getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"))
	envBase := strings.TrimSpace(os.Getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA"))
	token := strings.TrimSpace(os.Getenv(mrnote.TokenEnv))
	if token == "" {
		if s.requireVerified {
			return &exitError{code: exitProblems, err: fmt.Errorf("--require-verified-source: %s is not set, so GitLab cannot confirm "+
				"which merge request this is; set it as a masked CI/CD variable holding a token with read_api (check also reads CI_API_V4_URL, "+
				"CI_MERGE_REQUEST_PROJECT_ID or CI_PROJECT_ID, and CI_MERGE_REQUEST_IID, which a merge-request pipeline has)", mrnote.TokenEnv)}
		}
		s.fromEnv = *source == "" && envProject != "" && envBranch != ""
		return nil
	}

	g := check.GitLab{URL: strings.TrimSpace(os.Getenv("CI_API_V4_URL")), Token: token,
		Project: first(strings.TrimSpace(os.Getenv("CI_MERGE_REQUEST_PROJECT_ID")), strings.TrimSpace(os.Getenv("CI_PROJECT_ID")))}
	var missing []string
	if g.URL == "" {
		missing = append(missing, "CI_API_V4_URL")
	}
	if g.Project == "" {
		missing = append(missing, "CI_MERGE_REQUEST_PROJECT_ID (or CI_PROJECT_ID)")
	}
	iid := strings.TrimSpace(os.Getenv("CI_MERGE_REQUEST_IID"))
	if n, err := strconv.Atoi(iid); err == nil && n > 0 {
		g.MR = n
	} else {
		missing = append(missing, fmt.Sprintf("CI_MERGE_REQUEST_IID (%q; set only in merge-request pipelines)", iid))
	}
	if len(missing) > 0 {
		return &exitError{code: exitUnread, err: fmt.Errorf("%s is set, so check asks GitLab which merge request this is, but it needs %s; "+
			"run it in a merge-request pipeline (rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"), or unset %s to judge without GitLab",
			mrnote.TokenEnv, strings.Join(missing, ", "), mrnote.TokenEnv)}
	}
	mr, err := check.FetchMergeRequest(ctx, g)
	if err != nil {
		return &exitError{code: exitUnread, err: fmt.Errorf("the merge request's source: %w", err)}
	}

	c := check.Claims{Source: *source, Project: envProject, Branch: envBranch, Bases: map[string]string{}}
	r, err := git.PlainOpenWithOptions(repo, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return &exitError{code: exitUnread, err: fmt.Errorf("%s is set, so the merge request's commits are checked against GitLab's, but %s is not a git repository: %w", mrnote.TokenEnv, repo, err)}
	}
	resolve := func(what, rev string) (string, error) {
		if isDir(rev) {
			return "", &exitError{code: exitUnread, err: fmt.Errorf("%s %s is a folder; with %s set, check judges the merge request GitLab names, "+
				"so it must be a revision of --repo (or left out)", what, rev, mrnote.TokenEnv)}
		}
		h, err := r.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return "", &exitError{code: exitUnread, err: fmt.Errorf("%s %s: resolve in %s: %w", what, rev, repo, err)}
		}
		return h.String(), nil
	}
	if *base != "" {
		if c.Bases["--base "+*base], err = resolve("--base", *base); err != nil {
			return err
		}
	}
	if envBase != "" {
		c.Bases["CI_MERGE_REQUEST_DIFF_BASE_SHA"] = envBase
	}
	if head == "" {
		c.HeadWhere = "the checkout's HEAD"
		h, err := r.ResolveRevision(plumbing.Revision("HEAD"))
		if err != nil {
			return &exitError{code: exitUnread, err: fmt.Errorf("the checkout's HEAD in %s: %w", repo, err)}
		}
		c.Head = h.String()
	} else {
		c.HeadWhere = "--head " + head
		if c.Head, err = resolve("--head", head); err != nil {
			return err
		}
	}
	// A merged-results pipeline (or a merge train's) checks out the merge
	// request's head merged onto its target: a merge commit whose second
	// parent is the head GitLab names. Judged against its first parent (the
	// target as it now is, with whatever merged or goes ahead in the train),
	// a change that only breaks main combined with another is caught.
	mergedOnto := ""
	if !strings.EqualFold(c.Head, mr.HeadSHA) {
		if onto, ok := mergedResult(r, c.Head, mr.HeadSHA); ok {
			mergedOnto = onto
			c.HeadWhere += ", merged onto " + onto
			c.Head = mr.HeadSHA
		}
	}
	if wrong := mr.Refute(c); len(wrong) > 0 {
		return &exitError{code: exitProblems, err: fmt.Errorf("merge request !%d is not what this job says it is (GitLab: %s): %s. "+
			"check believes GitLab's API, not the job's variables or command line, and gives no verdict: remove whatever sets those variables "+
			"(a variables: entry in the pipeline's configuration, a project or pipeline variable) or the flags, and run the check from a pipeline "+
			"the merge request cannot edit (README: Merge requests)", mr.IID, mr.Endpoint, strings.Join(wrong, "; "))}
	}
	*source = mr.Source()
	switch {
	case mergedOnto != "":
		*base = mergedOnto
	case *base == "":
		*base = mr.BaseSHA
	}
	return nil
}

// mergedResult reports whether commit is a merge of the merge request's
// head (its second parent, as GitLab makes refs/merge-requests/<iid>/merge)
// and returns its first parent, the target it was merged onto.
func mergedResult(r *git.Repository, commit, mrHead string) (string, bool) {
	c, err := r.CommitObject(plumbing.NewHash(commit))
	if err != nil || len(c.ParentHashes) != 2 || !strings.EqualFold(c.ParentHashes[1].String(), mrHead) {
		return "", false
	}
	return c.ParentHashes[0].String(), true
}

// annotate adds what settle learnt and the files outside the model to the
// check's result.
func (s *sourceCheck) annotate(ctx context.Context, res *check.Result, bm *model.Model, base, head, repo, modelPath string) error {
	if s.fromEnv {
		res.AddProblems(check.UnverifiedSource(res.Source, mrnote.TokenEnv))
	}
	bs := pathSide(base, repo)
	var hs check.Side
	switch {
	case head != "":
		hs = pathSide(head, repo)
	case isGitRepo(repo):
		hs = check.Side{Repo: repo, Rev: "HEAD"} // the default head: the commit checked out
	default:
		hs = check.Side{Dir: filepath.Join(repo, modelPath)}
	}
	changes, dir, err := check.ChangedPaths(ctx, bs, hs, modelPath)
	if err != nil {
		return fmt.Errorf("listing the files the change touches: %w", err)
	}
	display := func(p string) string { return p }
	if bs.Rev == "" || hs.Rev == "" {
		display = func(p string) string {
			if hs.Dir != "" {
				return filepath.ToSlash(filepath.Join(hs.Dir, filepath.FromSlash(p)))
			}
			return path.Join(strings.Trim(filepath.ToSlash(modelPath), "/"), p)
		}
	}
	owner := ""
	if bm != nil && bm.Ecosystem != nil {
		owner = bm.Ecosystem.Owner.Name
	}
	res.AddProblems(check.OutsideModelProblems(check.OutsideModel(changes, dir), display, owner, res.Source)...)
	return nil
}

// pathSide is sideSource's choice for the changed-paths check: a folder if
// value names one, else a revision of repo.
func pathSide(value, repo string) check.Side {
	if isDir(value) {
		return check.Side{Dir: value}
	}
	return check.Side{Repo: repo, Rev: value}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isGitRepo(p string) bool {
	_, err := git.PlainOpenWithOptions(p, &git.PlainOpenOptions{DetectDotGit: true})
	return err == nil
}
