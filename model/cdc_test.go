package model_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/datasurface/datasurface/model"
)

func TestReplicationName(t *testing.T) {
	assert.Equal(t, model.ReplicationName("lakehouse", "shop_db"), model.ReplicationName("lakehouse", "shop_db"), "deterministic")
	assert.NotEqual(t, model.ReplicationName("lake", "house_db"), model.ReplicationName("lake_house", "db"), "joined alike, hashed apart")
	long := strings.Repeat("a", 63)
	n := model.ReplicationName(long, long)
	assert.Len(t, n, 63, "PostgreSQL keeps 63 bytes of a name")
	assert.Regexp(t, `^[a-z0-9_]+$`, model.ReplicationName("LakeHouse", "Shop"), "slot names are lower case")
	// Found by a birthday search: with a platform name long enough that the
	// readable part is cut before the datastore, these two hash alike and
	// would share a slot; lint refuses the second (replicationNames).
	p := "lake" + strings.Repeat("x", 50)
	assert.Equal(t, model.ReplicationName(p, "store96774"), model.ReplicationName(p, "store99695"))
}

func TestCheckDockerNetwork(t *testing.T) {
	for _, ok := range []string{"bridge", "host", "none", "datasurface_quickstart", "my-net.1", "container:airflow-worker"} {
		assert.NoError(t, model.CheckDockerNetwork(ok), ok)
	}
	for bad, msg := range map[string]string{
		"":              "is empty",
		"container:":    "is empty",
		"my net":        `has ' ' at 2`,
		"-net":          `has '-' at 0`,
		"net;rm -rf /":  `has ';'`,
		"${x}":          `has '$'`,
		"container:a b": "a container's name",
	} {
		err := model.CheckDockerNetwork(bad)
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), msg, bad)
		}
	}
}
