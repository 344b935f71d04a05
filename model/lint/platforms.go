package lint

import (
	"slices"

	"github.com/datasurface/datasurface/model"
)

// platforms checks each platform's settings and that every dataset group is
// assigned to a platform that accepts its requirements.
func (l *linter) platforms() {
	l.eachWorkspace(func(w *model.Workspace) {
		for gi := range w.Groups {
			g := &w.Groups[gi]
			p := l.ix.platforms[g.Platform.Name]
			if p == nil {
				continue // reported by references
			}
			gp := groupPath(w, g)
			s := p.EffectiveSupports()
			if !slices.Contains(s.History, g.Requirements.History) {
				l.errorf("platform-unsupported", refPos(g.Platform, g.Pos), gp, "platform %s cannot keep %s history; choose a platform that supports it or change the requirement", p.Name, g.Requirements.History)
			}
			if g.Requirements.Latency.Rank() < s.MinLatency.Rank() {
				l.errorf("platform-unsupported", refPos(g.Platform, g.Pos), gp, "platform %s delivers at best %s latency, but the group needs %s; relax the requirement or choose another platform", p.Name, s.MinLatency, latencyOrDefault(g.Requirements.Latency))
			}
			if g.Requirements.WriteMode != "" && p.Kind != model.PlatformAirflowIceberg {
				l.errorf("platform-unsupported", refPos(g.Platform, g.Pos), gp, "platform %s is %s and writes no Iceberg tables, so write_mode %s cannot apply; remove it or choose an airflow-iceberg platform", p.Name, p.Kind, g.Requirements.WriteMode)
			}
			if p.Kind == model.PlatformAirflowIceberg && p.AirflowIceberg != nil && !p.AirflowIceberg.EmbeddedCDC() && !p.AirflowIceberg.KafkaConnect.Container.IsSet() {
				for _, sk := range g.Sinks {
					if ds := l.ix.datastores[sk.Datastore]; ds != nil && ds.Capture != nil && ds.Capture.Kind == model.CaptureDebezium {
						l.errorf("platform-cdc", sk.Pos, gp, "%s is captured with debezium_cdc, but platform %s has no kafka_connect container to run it; add one, or set airflow_iceberg.cdc: embedded to capture with merge-runner capture", sk, p.Name)
					}
				}
			}
		}
	})
}

func latencyOrDefault(l model.Latency) model.Latency {
	if l == "" {
		return model.LatencyMinutes
	}
	return l
}

// platformRefs checks a platform's kind block and resolves its settings.
func (l *linter) platformRefs(p *model.Platform) {
	pp := "ecosystem:" + l.m.Ecosystem.Name + "/platform:" + p.Name
	switch p.Kind {
	case model.PlatformAirflowIceberg:
		if p.AirflowIceberg == nil {
			l.errorf("platform-settings", p.Pos, pp, "platform %q is airflow-iceberg but has no airflow_iceberg settings; add them", p.Name)
		}
		if p.Legacy != nil {
			l.errorf("platform-settings", p.Pos, pp, "platform %q is airflow-iceberg; legacy settings are for kind legacy, remove them", p.Name)
		}
	case model.PlatformLegacy:
		if p.Legacy == nil {
			l.errorf("platform-settings", p.Pos, pp, "platform %q is legacy but does not describe the pipeline; add legacy: {description: ...}", p.Name)
		}
		if p.AirflowIceberg != nil {
			l.errorf("platform-settings", p.Pos, pp, "platform %q is legacy; airflow_iceberg settings are for kind airflow-iceberg, remove them", p.Name)
		}
	}
	ai := p.AirflowIceberg
	if ai == nil {
		return
	}
	switch ai.Airflow.Version {
	case 0, 2, 3:
	default:
		l.errorf("platform-settings", p.Pos, pp, "airflow version %d is not supported; use 2 or 3", ai.Airflow.Version)
	}
	if ai.Airflow.Operator == "kubernetes" && ai.Airflow.Namespace == "" {
		l.errorf("platform-settings", p.Pos, pp, "the kubernetes operator needs airflow.namespace: the namespace the pods run in")
	}
	if ai.Images.MergeRunner == "" {
		l.errorf("platform-settings", p.Pos, pp, "images.merge_runner is empty; give the merge-runner image")
	}
	s3 := []string{"s3_keys"}
	l.containerOfKind(nil, ai.Landing.Container, model.ContainerObjectStorage, p.Pos, pp)
	l.credentialRef(nil, ai.Landing.Credential, s3, p.Pos, pp)
	l.containerOfKind(nil, ai.Iceberg.Warehouse.Container, model.ContainerObjectStorage, p.Pos, pp)
	l.credentialRef(nil, ai.Iceberg.Warehouse.Credential, s3, p.Pos, pp)
	cat := ai.Iceberg.Catalog
	switch cat.Kind {
	case "sql":
		if !cat.Container.IsSet() {
			l.errorf("platform-settings", p.Pos, pp, "an sql catalog needs container: the postgres container that holds it")
		} else {
			l.containerOfKind(nil, cat.Container, model.ContainerPostgres, p.Pos, pp)
		}
	case "rest":
		if cat.URL == "" {
			l.errorf("platform-settings", p.Pos, pp, "a rest catalog needs url")
		}
	}
	l.credentialRef(nil, cat.Credential, []string{"user_password", "token", "certificate"}, p.Pos, pp)
	if ai.KafkaConnect.Container.IsSet() {
		if ai.EmbeddedCDC() {
			// Nothing would be deployed to it: an embedded platform renders
			// no connector, and keeping one would suggest two captures.
			l.errorf("platform-cdc", refPos(ai.KafkaConnect.Container, p.Pos), pp, "platform %s captures with cdc: embedded (merge-runner capture), so kafka_connect.container %s would run nothing; remove it, or use cdc: kafka_connect", p.Name, ai.KafkaConnect.Container.Name)
		} else {
			l.containerOfKind(nil, ai.KafkaConnect.Container, model.ContainerKafkaConnect, p.Pos, pp)
		}
	}
	if n := ai.Airflow.DockerNetwork; n != "" {
		if ai.Airflow.Operator == "kubernetes" {
			l.errorf("platform-settings", p.Pos, pp, "airflow.docker_network %q is the docker operator's network_mode; the kubernetes operator runs pods, remove it", n)
		} else if err := model.CheckDockerNetwork(n); err != nil {
			l.errorf("platform-settings", p.Pos, pp, "airflow.docker_network %q %v", n, err)
		}
	}
	l.credentialRef(nil, ai.Trino.Credential, []string{"user_password", "token", "certificate"}, p.Pos, pp)
}
