package publish

import (
	"net/url"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Environment variables publish reads.
const (
	// EnvToken is the token for an HTTP(S) deploy repository.
	EnvToken = "DATASURFACE_DEPLOY_TOKEN"
	// EnvUser is the user name sent with the token.
	EnvUser = "DATASURFACE_DEPLOY_USER"
)

// GitLab's user names for tokens sent as HTTP basic auth: a CI job token
// (CI_JOB_TOKEN) is only accepted with "gitlab-ci-token"; project, group and
// personal access tokens accept any non-blank name, "oauth2" by convention.
const (
	UserOAuth2   = "oauth2"
	UserJobToken = "gitlab-ci-token"
)

// IsHTTP says whether a deploy repository location is an http(s) URL.
func IsHTTP(repo string) bool {
	u, err := url.Parse(repo)
	return err == nil && (strings.EqualFold(u.Scheme, "https") || strings.EqualFold(u.Scheme, "http"))
}

// AuthFromEnv is the authentication for the deploy repository at repo: for
// an http(s) URL with DATASURFACE_DEPLOY_TOKEN set, HTTP basic auth with the
// token as the password and DATASURFACE_DEPLOY_USER as the user name; that
// defaults to "gitlab-ci-token" when the token is the job's CI_JOB_TOKEN and
// "oauth2" otherwise (a project, group or personal access token with the
// write_repository scope). Anything else (a path, file://, ssh, or no token)
// gets nil: no authentication, or go-git's default (the SSH agent).
func AuthFromEnv(repo string, getenv func(string) string) transport.AuthMethod {
	token := getenv(EnvToken)
	if token == "" || !IsHTTP(repo) {
		return nil
	}
	user := getenv(EnvUser)
	if user == "" {
		user = UserOAuth2
		if jt := getenv("CI_JOB_TOKEN"); jt != "" && jt == token {
			user = UserJobToken
		}
	}
	return &http.BasicAuth{Username: user, Password: token}
}

// Redact hides the password of a URL that carries one, for messages.
func Redact(repo string) string {
	if u, err := url.Parse(repo); err == nil && u.User != nil && u.Scheme != "" {
		return u.Redacted()
	}
	return repo
}

// Identity is a commit author or committer.
type Identity struct {
	Name, Email string
}

// DefaultIdentity is who publish commits as unless the environment says
// otherwise.
var DefaultIdentity = Identity{Name: "DataSurface", Email: "datasurface@localhost"}

// IdentityFromEnv is the author and committer of publish commits:
// DataSurface <datasurface@localhost>, overridden by GIT_AUTHOR_NAME and
// GIT_AUTHOR_EMAIL, and for the committer by GIT_COMMITTER_NAME and
// GIT_COMMITTER_EMAIL (which default to the author's, as with git).
func IdentityFromEnv(getenv func(string) string) (author, committer Identity) {
	if getenv == nil {
		getenv = os.Getenv
	}
	pick := func(v, def string) string {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
		return def
	}
	author = Identity{Name: pick(getenv("GIT_AUTHOR_NAME"), DefaultIdentity.Name), Email: pick(getenv("GIT_AUTHOR_EMAIL"), DefaultIdentity.Email)}
	committer = Identity{Name: pick(getenv("GIT_COMMITTER_NAME"), author.Name), Email: pick(getenv("GIT_COMMITTER_EMAIL"), author.Email)}
	return author, committer
}
