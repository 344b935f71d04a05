package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ReplicationName is the PostgreSQL logical replication slot and
// publication name of a datastore captured by a platform, whichever CDC
// path runs it: lower case, at most 63 bytes (NAMEDATALEN-1), letters,
// digits and '_' only (slot names allow no more: ReplicationSlotValidateName),
// ending in a hash of the exact names so that different pairs never share a
// slot (slots are per server; lower-casing and joining alone would let
// lake+house_db and lake_house+db collide).
func ReplicationName(platform, datastore string) string {
	sum := sha256.Sum256([]byte(platform + "\x00" + datastore))
	suffix := "_" + hex.EncodeToString(sum[:4])
	n := strings.ToLower("ds_" + platform + "_" + datastore)
	if len(n) > MaxIdentifierLength-len(suffix) {
		n = n[:MaxIdentifierLength-len(suffix)]
	}
	return n + suffix
}

// CheckDockerNetwork accepts a DockerOperator network_mode: bridge, host,
// none, a network's name, or container:NAME. Names are held to the
// characters Docker allows in container names ([a-zA-Z0-9][a-zA-Z0-9_.-]*,
// moby daemon/names.RestrictedNameChars), which the networks compose and
// `docker network create` make keep to, so that the value is a plain word
// in the generated DAG and on Docker's command line.
func CheckDockerNetwork(s string) error {
	name, isContainer := strings.CutPrefix(s, "container:")
	if name == "" {
		return fmt.Errorf("is empty; give bridge, host, none, a network's name or container:NAME")
	}
	if len(name) > 255 {
		return fmt.Errorf("has %d characters; a Docker name has at most 255", len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAlnum(c) || i > 0 && (c == '_' || c == '.' || c == '-') {
			continue
		}
		what := "a network's name"
		if isContainer {
			what = "a container's name"
		}
		return fmt.Errorf("has %q at %d; %s starts with a letter or digit, then letters, digits, '_', '.' or '-'", rune(c), i, what)
	}
	return nil
}
