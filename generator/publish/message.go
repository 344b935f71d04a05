package publish

import (
	"fmt"
	"regexp"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Trailer keys of a publish commit. A commit carrying Model-Commit and
// Generator-Version, committed by publish's identity, is a publish commit.
const (
	TrailerModelCommit  = "Model-Commit"
	TrailerMergeRequest = "Model-Merge-Request"
	TrailerGenerator    = "Generator-Version"
)

// ModelInfo describes the model revision being published, for the commit
// message.
type ModelInfo struct {
	// Commit is the model commit (full sha); "" when the model was read
	// from a folder.
	Commit string
	// Subject is the model commit's first line.
	Subject string
	// MergeRequest is the merge request that made the commit:
	// "group/project!42", or "!42" when the project is unknown.
	MergeRequest string
	// Source is where the model was read from (a folder or repo@rev).
	Source string
}

// Short is the commit's first 12 hex digits.
func (m ModelInfo) Short() string { return short(m.Commit) }

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// mergeRequestRE matches the line GitLab writes into a merge commit (and,
// with the default template, a squash commit): "See merge request
// group/sub/project!123". Older GitLab wrote "See merge request !123".
var mergeRequestRE = regexp.MustCompile(`(?m)^See merge request ((?:[\w.-]+/)*[\w.-]+)?!(\d+)\s*$`)

// ParseMergeRequest finds the merge request a commit message names,
// "group/project!123" (or "!123"), or "" when it names none. The last such
// line wins.
func ParseMergeRequest(message string) string {
	ms := mergeRequestRE.FindAllStringSubmatch(message, -1)
	if len(ms) == 0 {
		return ""
	}
	m := ms[len(ms)-1]
	return m[1] + "!" + m[2]
}

// DescribeModel gathers what the commit message says about the model: the
// subject and merge request of commit, read from the model repository at
// repoPath (when both are known), completed by GitLab CI's variables when
// they describe the same commit (CI_COMMIT_SHA equals commit):
// CI_COMMIT_MESSAGE, CI_COMMIT_TITLE, CI_MERGE_REQUEST_IID with
// CI_MERGE_REQUEST_PROJECT_PATH or CI_PROJECT_PATH. For a folder (commit
// "") the CI variables are not used: nothing ties the folder to them.
func DescribeModel(repoPath, commit, source string, getenv func(string) string) ModelInfo {
	info := ModelInfo{Commit: commit, Source: source}
	if commit == "" {
		return info
	}
	var message string
	if repoPath != "" {
		if r, err := git.PlainOpenWithOptions(repoPath, &git.PlainOpenOptions{DetectDotGit: true}); err == nil {
			if c, err := r.CommitObject(plumbing.NewHash(commit)); err == nil {
				message = c.Message
			}
		}
	}
	ci := getenv("CI_COMMIT_SHA") != "" && strings.EqualFold(getenv("CI_COMMIT_SHA"), commit)
	if message == "" && ci {
		message = getenv("CI_COMMIT_MESSAGE")
	}
	info.Subject = subject(message)
	if info.Subject == "" && ci {
		info.Subject = firstLine(getenv("CI_COMMIT_TITLE"))
	}
	info.MergeRequest = ParseMergeRequest(message)
	if !ci {
		return info
	}
	project := getenv("CI_MERGE_REQUEST_PROJECT_PATH")
	if project == "" {
		project = getenv("CI_PROJECT_PATH")
	}
	if info.MergeRequest == "" {
		if iid := strings.TrimSpace(getenv("CI_MERGE_REQUEST_IID")); iid != "" {
			info.MergeRequest = project + "!" + iid
		}
	} else if strings.HasPrefix(info.MergeRequest, "!") {
		info.MergeRequest = project + info.MergeRequest
	}
	return info
}

// mergeSubjectRE matches the first line of GitLab's (and git's) merge commits.
var mergeSubjectRE = regexp.MustCompile(`^Merge branch '.*' into '.*'$`)

// subject is what a model commit changed, for people: its first line, or
// for a GitLab merge commit ("Merge branch 'x' into 'main'", then the merge
// request's title) the title.
func subject(message string) string {
	s := firstLine(message)
	if !mergeSubjectRE.MatchString(s) {
		return s
	}
	paras := strings.SplitN(strings.TrimSpace(strings.ReplaceAll(message, "\r\n", "\n")), "\n\n", 3)
	if len(paras) > 1 {
		if t := firstLine(paras[1]); t != "" && !mergeRequestRE.MatchString(t) {
			return t
		}
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// oneLine folds text onto one line, so it cannot start a paragraph or fake
// a trailer.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Message is the commit message of a publish commit:
//
//	datasurface: publish model 0123456789ab (acme/model!42) <suffix>
//
//	Model change: <the model commit's subject>
//
//	Model-Commit: <full sha, or "none" for a folder>
//	Model-Merge-Request: acme/model!42
//	Generator-Version: <version>
func Message(m ModelInfo, version, suffix string) string {
	var b strings.Builder
	if m.Commit != "" {
		b.WriteString("datasurface: publish model " + m.Short())
	} else {
		b.WriteString("datasurface: publish model from a folder")
	}
	if m.MergeRequest != "" {
		b.WriteString(" (" + oneLine(m.MergeRequest) + ")")
	}
	if s := oneLine(suffix); s != "" {
		b.WriteString(" " + s)
	}
	b.WriteString("\n\n")
	switch {
	case m.Subject != "":
		b.WriteString("Model change: " + oneLine(m.Subject) + "\n\n")
	case m.Commit == "" && m.Source != "":
		b.WriteString("Model folder: " + oneLine(m.Source) + "\n\n")
	}
	commit := m.Commit
	if commit == "" {
		commit = "none"
	}
	fmt.Fprintf(&b, "%s: %s\n", TrailerModelCommit, commit)
	if m.MergeRequest != "" {
		fmt.Fprintf(&b, "%s: %s\n", TrailerMergeRequest, oneLine(m.MergeRequest))
	}
	if version == "" {
		version = "unknown"
	}
	fmt.Fprintf(&b, "%s: %s\n", TrailerGenerator, oneLine(version))
	return b.String()
}

// Trailers reads the trailers of a commit message: the "Key: value" lines
// of its last paragraph, when every line of that paragraph is one and the
// message has more than one paragraph.
func Trailers(message string) map[string]string {
	paras := strings.Split(strings.TrimSpace(strings.ReplaceAll(message, "\r\n", "\n")), "\n\n")
	if len(paras) < 2 {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(paras[len(paras)-1]), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.TrimLeft(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return nil
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}
