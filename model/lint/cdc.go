package lint

import (
	"strings"

	"github.com/datasurface/datasurface/model"
)

// embeddedTopicSpace names where an embedded platform's topics live: merge-runner
// capture lands <prefix>/<topic>/partition=0/... in the platform's landing,
// so two platforms landing in one bucket and prefix share their topics.
func embeddedTopicSpace(ai *model.AirflowIceberg) string {
	prefix := ai.Landing.Prefix
	if prefix == "" {
		prefix = "topics" // the S3 sink's topics.dir default, which the generator uses for both paths
	}
	return "landing:" + ai.Landing.Container.Name + "/" + ai.Landing.Bucket + "/" + prefix
}

// topicSpaceWord says in a message what a topic namespace is.
func topicSpaceWord(space string) string {
	if rest, ok := strings.CutPrefix(space, "landing:"); ok {
		return "landing " + rest
	}
	return "Kafka"
}

// replicationNames: each airflow-iceberg platform capturing a debezium_cdc
// store owns a replication slot and a publication in the store's database,
// named model.ReplicationName(platform, store) (a shortened, hashed name).
// Two pairs with one name would share a slot, each consuming the other's
// changes, so the names must differ; judged for every platform and store,
// whoever sinks what, as the other generated names are.
func (l *linter) replicationNames() {
	type pair struct {
		p  *model.Platform
		ds *model.Datastore
	}
	var platforms []*model.Platform
	for i := range l.m.Ecosystem.Platforms {
		p := &l.m.Ecosystem.Platforms[i]
		if p.Kind == model.PlatformAirflowIceberg && p.AirflowIceberg != nil {
			platforms = append(platforms, p)
		}
	}
	if len(platforms) == 0 {
		return
	}
	names := map[string]pair{}
	l.captured(func(ds *model.Datastore) {
		if ds.Capture.Kind != model.CaptureDebezium {
			return
		}
		for _, p := range platforms {
			n := model.ReplicationName(p.Name, ds.Name)
			prev, dup := names[n]
			if !dup {
				names[n] = pair{p, ds}
				continue
			}
			l.errorf("name-collision", ds.Pos, storePath(ds), "on platform %s, datastore %s would use the replication slot and publication %s, which platform %s uses for datastore %s at %s (the name is shortened to PostgreSQL's 63 bytes and ends in a hash of both names, which here are equal); rename the datastore", p.Name, ds.Name, n, prev.p.Name, prev.ds.Name, prev.ds.Pos)
		}
	})
}
